import COpenSSL
import CTaplineShims
import Glibc

/// The files that make a client process trust Tapline's CA on top of the roots it
/// trusted before, so that intercepted hosts and passed-through hosts both verify
/// (`tapline run` points a child's environment at them). They live in
/// `<home>/client-trust/`:
///
/// - `bundle-<digest>.pem`: the base roots (a PEM file: the user's `SSL_CERT_FILE`, else
///   OpenSSL's default cert file, on Debian `/etc/ssl/certs/ca-certificates.crt`) as they
///   are, then Tapline's CA certificate;
/// - `ca-<fingerprint>/<subject hash>.0`: Tapline's CA alone, under the name OpenSSL's
///   hashed-directory lookup (`SSL_CERT_DIR`, `c_rehash`) asks for; put before the
///   system directory in `SSL_CERT_DIR` (a colon-separated list);
/// - `java-<digest>.p12`: the bundle's certificates as a PKCS#12 trust store for Java
///   (password `javaTrustStorePassword`: it guards nothing, a trust store holds no
///   secret). Each certificate bag carries Oracle's trusted-key-usage attribute
///   (OID 2.16.840.1.113894.746875.1.1 = anyExtendedKeyUsage), without which Java
///   loads a certificate-only PKCS#12 as an empty store (what `openssl pkcs12 -jdktrust`
///   adds since OpenSSL 3.2; written here with the 3.0 API).
///
/// Invariant: a file's name carries a digest of what it holds (the bundle's SHA-256,
/// the CA's fingerprint), so a new CA or changed base roots give new names and an
/// existing file is never rewritten. New files are written to a temporary name,
/// fsynced and renamed into place: processes preparing the same files at once never
/// see a partial one. Files of earlier CAs are left behind (a run may still use them).
///
/// A value type holding paths; `prepare` is safe from any thread.
public struct ClientTrustFiles: Sendable {
    /// PEM: the base roots, then Tapline's CA.
    public let bundlePath: String
    /// The PEM file the bundle's roots came from; nil when none was readable (the
    /// bundle then holds Tapline's CA only, and hosts passed through will not verify).
    public let baseRootsPath: String?
    /// A directory holding only Tapline's CA under its OpenSSL subject-hash name.
    public let hashedCertificateDirectory: String
    /// OpenSSL's default hashed certificate directory (`/usr/lib/ssl/certs` on Debian).
    public let systemCertificateDirectory: String
    /// PKCS#12 trust store for `-Djavax.net.ssl.trustStore`.
    public let javaTrustStorePath: String
    public static let javaTrustStorePassword = "tapline"

    /// OpenSSL's default roots file (`X509_get_default_cert_file`).
    public static var defaultRootsPath: String { String(cString: X509_get_default_cert_file()) }

    /// Writes the files for `authority` (those already there are kept) and returns
    /// their paths. `baseRootsPath`: the PEM roots to start from; nil means OpenSSL's
    /// default file. Throws `.certificateAuthority` naming the file that could not be
    /// read or written.
    public static func prepare(for authority: CertificateAuthority, baseRootsPath requested: String?) throws(TLSError) -> ClientTrustFiles {
        let directory = authority.home + "/client-trust"
        if mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw .certificateAuthority("cannot create \(directory): \(String(cString: strerror(errno))); make \(authority.home) writable or set TAPLINE_HOME to a directory you own")
        }
        let basePath = requested ?? defaultRootsPath
        var roots: [OpaquePointer] = []
        var baseText: [UInt8] = []
        do {
            baseText = try PEMFile.contents(of: basePath, maxBytes: maxRootsFileBytes)
            roots = try PEMFile.certificates(inPEM: baseText)
        } catch {
            // No readable base roots (a minimal container): trust Tapline's CA alone.
            baseText = []
        }
        defer { roots.forEach { X509_free($0) } }
        if let last = baseText.last, last != UInt8(ascii: "\n") { baseText.append(UInt8(ascii: "\n")) }
        let bundle = baseText + Array("# Tapline interception CA (\(authority.certificatePath))\n\(authority.certificatePEM)".utf8)
        let digest = String(SHA256Digest.hex(bundle).prefix(16))

        let bundlePath = "\(directory)/bundle-\(digest).pem"
        try writeOnce(bundlePath, mode: 0o644) { () throws(TLSError) in bundle }

        let caDirectory = "\(directory)/ca-\(authority.sha256Fingerprint.prefix(16))"
        if mkdir(caDirectory, 0o755) != 0, errno != EEXIST {
            throw .certificateAuthority("cannot create \(caDirectory): \(String(cString: strerror(errno)))")
        }
        let subjectHash = authority.withCertificate { X509_subject_name_hash($0) }
        let hashedName = String(subjectHash, radix: 16)
        let hashedPath = "\(caDirectory)/\(String(repeating: "0", count: max(0, 8 - hashedName.count)))\(hashedName).0"
        try writeOnce(hashedPath, mode: 0o644) { () throws(TLSError) in Array(authority.certificatePEM.utf8) }

        let javaPath = "\(directory)/java-\(digest).p12"
        try writeOnce(javaPath, mode: 0o644) { () throws(TLSError) in
            try authority.withCertificate { (certificate) throws(TLSError) in
                try javaTrustStore(roots: roots, authority: certificate)
            }
        }
        return ClientTrustFiles(bundlePath: bundlePath, baseRootsPath: baseText.isEmpty ? nil : basePath,
                                hashedCertificateDirectory: caDirectory,
                                systemCertificateDirectory: String(cString: X509_get_default_cert_dir()),
                                javaTrustStorePath: javaPath)
    }

    /// A roots bundle (Debian's is ~220 KiB) is larger than the certificate files
    /// `PEMFile` reads by default.
    static let maxRootsFileBytes = 16 << 20

    /// Writes `path` with what `contents` returns unless it exists already.
    private static func writeOnce(_ path: String, mode: mode_t, _ contents: () throws(TLSError) -> [UInt8]) throws(TLSError) {
        guard access(path, F_OK) != 0 else { return }
        let temporary = try CertificateAuthorityFiles.writeTemporary(try contents(), beside: path, mode: mode)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .certificateAuthority("cannot write \(path): \(reason)")
        }
    }

    /// The DER of a PKCS#12 file holding `roots` and `authority` as trusted
    /// certificates for Java (no keys; certificate bags unencrypted, SHA-256 MAC).
    static func javaTrustStore(roots: [OpaquePointer], authority: OpaquePointer) throws(TLSError) -> [UInt8] {
        let failure = { (step: String) -> TLSError in
            .certificateAuthority("cannot build the Java trust store: \(step): \(OpenSSLSupport.takeErrorReason() ?? "OpenSSL error")")
        }
        guard let anyExtendedKeyUsage = OBJ_txt2obj("2.5.29.37.0", 1) else { throw failure("OBJ_txt2obj") }
        defer { ASN1_OBJECT_free(anyExtendedKeyUsage) }
        var bags: OpaquePointer?
        defer { tapline_pkcs12_safebags_free(bags) }
        for (index, certificate) in ([authority] + roots).enumerated() {
            guard let bag = PKCS12_add_cert(&bags, certificate) else { throw failure("PKCS12_add_cert") }
            // Java uses the friendly name as the entry's alias: unique per store.
            let alias = index == 0 ? "tapline-ca" : "root-\(index)"
            guard PKCS12_add_friendlyname_asc(bag, alias, -1) == 1,
                  PKCS12_add1_attr_by_txt(bag, javaTrustedKeyUsageOID, V_ASN1_OBJECT,
                                          UnsafePointer<UInt8>(anyExtendedKeyUsage), -1) == 1
            else { throw failure("certificate attributes") }
        }
        var safes: OpaquePointer?
        defer { tapline_pkcs7_stack_free(safes) }
        guard PKCS12_add_safe(&safes, bags, -1, 0, nil) == 1 else { throw failure("PKCS12_add_safe") }
        guard let store = PKCS12_add_safes(safes, 0) else { throw failure("PKCS12_add_safes") }
        defer { PKCS12_free(store) }
        guard PKCS12_set_mac(store, javaTrustStorePassword, -1, nil, 0, PKCS12_DEFAULT_ITER, EVP_sha256()) == 1 else {
            throw failure("PKCS12_set_mac")
        }
        let length = i2d_PKCS12(store, nil)
        guard length > 0 else { throw failure("i2d_PKCS12") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_PKCS12(store, &cursor)
        }
        guard written == length else { throw failure("i2d_PKCS12") }
        return der
    }

    /// Oracle's "trusted key usage" bag attribute: Java's PKCS12KeyStore loads a
    /// certificate bag without a key as a trusted entry only when it carries this.
    static let javaTrustedKeyUsageOID = "2.16.840.1.113894.746875.1.1"
}
