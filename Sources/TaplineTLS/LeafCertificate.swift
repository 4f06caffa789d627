import COpenSSL
import Glibc

/// A server certificate with its private key, ready to present: either minted
/// by `CertificateAuthority`, or loaded from the user's PEM files
/// (`init(certificateFile:keyFile:)`, for `--listen-tls --cert FILE --key FILE`).
///
/// Immutable. Holds the leaf `X509` and a server `SSL_CTX` built once at init
/// (leaf, then the chain, and the key), which every server `TLSEngine`
/// presenting this leaf shares; ALPN selection is the same for both kinds.
/// OpenSSL objects carry their own reference counts and are only read after
/// init, so a leaf can be shared across event loops.
public final class LeafCertificate: @unchecked Sendable {
    /// The host name or IP address it was minted for (normalized: lowercase,
    /// no brackets, no trailing dot); nil for a certificate loaded from files.
    public let host: String?
    /// The leaf's subject, one RFC 2253 line ("CN=localhost,O=Example").
    public let subject: String
    /// The leaf certificate in PEM (the leaf only, not the chain).
    public let certificatePEM: String
    /// SHA-256 of the leaf's DER encoding, lowercase hex.
    public let sha256Fingerprint: String

    /// Owned reference to the leaf.
    private let certificate: OpaquePointer
    /// The server context presenting this leaf.
    let serverContext: SSLContext

    /// Takes ownership of `certificate` (its reference is released in deinit,
    /// or here when building the context fails). `privateKey` and `chain` are
    /// borrowed: the context takes its own references. `source` names the
    /// certificate in errors.
    init(host: String?, certificate: OpaquePointer, privateKey: OpaquePointer, chain: [OpaquePointer],
         source: String) throws(TLSError) {
        let context: SSLContext
        do {
            context = try SSLContext.makeServer(certificate: certificate, privateKey: privateKey, chain: chain,
                                                source: source)
        } catch {
            X509_free(certificate)
            throw error
        }
        self.host = host
        self.certificate = certificate
        self.serverContext = context
        self.subject = OpenSSLSupport.rfc2253(X509_get_subject_name(certificate))
        self.certificatePEM = OpenSSLSupport.pem(of: certificate)
        self.sha256Fingerprint = OpenSSLSupport.sha256Fingerprint(of: certificate)
    }

    /// Loads a certificate chain (`certificateFile`: the leaf first, then any
    /// intermediates, PEM) and its private key (`keyFile`: PEM, EC or RSA,
    /// PKCS#8 or traditional, not encrypted; it may be the same file).
    ///
    /// Throws `.certificateFile` naming the file and what to do when a file is
    /// unreadable, holds no PEM certificate / key, the key is encrypted, or the
    /// key is not the certificate's (X509_check_private_key). An expired or
    /// not-yet-valid certificate is accepted: see `validityProblem`.
    public convenience init(certificateFile: String, keyFile: String) throws(TLSError) {
        let certificates: [OpaquePointer]
        do {
            certificates = try PEMFile.certificates(at: certificateFile)
        } catch {
            throw Self.loadFailure(error, path: certificateFile, expected: "certificate")
        }
        defer { certificates.dropFirst().forEach { X509_free($0) } }
        let key: OpaquePointer
        do {
            key = try PEMFile.privateKey(at: keyFile)
        } catch {
            X509_free(certificates[0])
            throw Self.loadFailure(error, path: keyFile, expected: "private key")
        }
        defer { EVP_PKEY_free(key) }
        guard X509_check_private_key(certificates[0], key) == 1 else {
            ERR_clear_error()
            X509_free(certificates[0])
            throw .certificateFile("the key in \(keyFile) does not match the certificate in \(certificateFile) (the first certificate in the file must be the one issued for this key); check that --cert and --key belong together")
        }
        try self.init(host: nil, certificate: certificates[0], privateKey: key, chain: Array(certificates.dropFirst()),
                      source: "the certificate in \(certificateFile) with the key in \(keyFile)")
    }

    deinit {
        X509_free(certificate)
    }

    /// Why the leaf is not valid at `now` (seconds since the epoch), or nil when it is:
    /// "expired on <date>" or "not valid before <date>". Clients that verify will refuse it.
    public func validityProblem(at now: time_t = time(nil)) -> String? {
        var moment = now
        if let notAfter = X509_get0_notAfter(certificate), X509_cmp_time(notAfter, &moment) < 0 {
            return "expired on \(Self.text(of: notAfter))"
        }
        if let notBefore = X509_get0_notBefore(certificate), X509_cmp_time(notBefore, &moment) > 0 {
            return "not valid before \(Self.text(of: notBefore))"
        }
        return nil
    }

    private static func text(of time: UnsafePointer<ASN1_TIME>) -> String {
        OpenSSLSupport.string { ASN1_TIME_print($0, time) } ?? "an unreadable date"
    }

    private static func loadFailure(_ failure: PEMFileFailure, path: String, expected: String) -> TLSError {
        switch failure {
        case .unreadable(let reason):
            return .certificateFile("cannot read \(path): \(reason)")
        case .notPEM:
            return .certificateFile("\(path) holds no PEM \(expected) (expected a -----BEGIN \(expected == "certificate" ? "CERTIFICATE" : "PRIVATE KEY")----- block); convert DER with `openssl \(expected == "certificate" ? "x509" : "pkey") -inform DER -in FILE -out FILE.pem`")
        case .encrypted:
            return .certificateFile("\(path) holds an encrypted private key; Tapline cannot ask for its passphrase: decrypt it with `openssl pkey -in \(path) -out KEY.pem`")
        }
    }
}
