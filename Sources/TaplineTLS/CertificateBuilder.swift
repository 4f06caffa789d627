import COpenSSL
import CTaplineShims

/// Builds Tapline's X.509v3 certificates: the self-signed CA and the leaves it
/// signs. Stateless; safe from any thread (OpenSSL keys are only read).
/// Every returned pointer is an owned reference the caller must free.
enum CertificateBuilder {
    /// A new EC P-256 key pair.
    static func generateKey() throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let key = tapline_generate_ec_p256_key() else {
            throw .certificateAuthority("cannot generate an EC P-256 key: \(OpenSSLSupport.takeErrorReason() ?? "unknown error")")
        }
        return key
    }

    /// The self-signed CA: CN `commonName`, O "Tapline", CA:TRUE pathlen 0,
    /// keyCertSign+cRLSign, subjectKeyIdentifier, valid from a day ago for ten years.
    static func makeCA(key: OpaquePointer, commonName: String) throws(TLSError) -> OpaquePointer {
        let cert = try makeSkeleton(publicKey: key, commonName: commonName, organization: "Tapline",
                                    validDays: 3650)
        do throws(TLSError) {
            guard X509_set_issuer_name(cert, X509_get_subject_name(cert)) == 1 else { throw failure("set the issuer") }
            var ctx = X509V3_CTX()
            X509V3_set_ctx(&ctx, cert, cert, nil, nil, 0)
            try add(NID_basic_constraints, "critical,CA:TRUE,pathlen:0", to: cert, ctx: &ctx)
            try add(NID_key_usage, "critical,keyCertSign,cRLSign", to: cert, ctx: &ctx)
            try add(NID_subject_key_identifier, "hash", to: cert, ctx: &ctx)
            try sign(cert, with: key)
        } catch {
            X509_free(cert)
            throw error
        }
        return cert
    }

    /// A leaf for `host` (already normalized and validated by the caller):
    /// CN host (at most 64 bytes), SAN DNS or IP, serverAuth, digitalSignature,
    /// CA:FALSE, authorityKeyIdentifier, valid from a day ago for 365 days (never
    /// past the issuer's notAfter),
    /// signed with SHA-256 by the issuer.
    static func makeLeaf(host: String, isIPLiteral: Bool, publicKey: OpaquePointer,
                         issuer: OpaquePointer, issuerKey: OpaquePointer) throws(TLSError) -> OpaquePointer {
        let cert = try makeSkeleton(publicKey: publicKey, commonName: String(decoding: host.utf8.prefix(64), as: UTF8.self),
                                    organization: nil, validDays: 365)
        do throws(TLSError) {
            guard X509_set_issuer_name(cert, X509_get_subject_name(issuer)) == 1 else { throw failure("set the issuer") }
            // A leaf never outlives its CA (clients reject such chains).
            if let caNotAfter = X509_get0_notAfter(issuer), ASN1_TIME_compare(X509_get0_notAfter(cert), caNotAfter) > 0,
               X509_set1_notAfter(cert, caNotAfter) != 1 {
                throw failure("set the validity")
            }
            var ctx = X509V3_CTX()
            X509V3_set_ctx(&ctx, issuer, cert, nil, nil, 0)
            try add(NID_basic_constraints, "critical,CA:FALSE", to: cert, ctx: &ctx)
            try add(NID_key_usage, "critical,digitalSignature", to: cert, ctx: &ctx)
            try add(NID_ext_key_usage, "serverAuth", to: cert, ctx: &ctx)
            try add(NID_subject_alt_name, (isIPLiteral ? "IP:" : "DNS:") + host, to: cert, ctx: &ctx)
            try add(NID_authority_key_identifier, "keyid:always", to: cert, ctx: &ctx)
            try sign(cert, with: issuerKey)
        } catch {
            X509_free(cert)
            throw error
        }
        return cert
    }

    /// Version 3, random positive 128-bit serial, validity, public key, subject.
    private static func makeSkeleton(publicKey: OpaquePointer, commonName: String, organization: String?,
                                     validDays: Int) throws(TLSError) -> OpaquePointer {
        ERR_clear_error()
        guard let cert = X509_new() else { throw failure("allocate a certificate") }
        do throws(TLSError) {
            guard X509_set_version(cert, Int(X509_VERSION_3)) == 1 else { throw failure("set the version") }
            guard let serial = BN_new() else { throw failure("allocate a serial number") }
            defer { BN_free(serial) }
            guard BN_rand(serial, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ODD) == 1,
                  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) != nil else {
                throw failure("draw a random serial number")
            }
            guard X509_gmtime_adj(X509_getm_notBefore(cert), -86_400) != nil,
                  X509_time_adj_ex(X509_getm_notAfter(cert), Int32(validDays), 0, nil) != nil else {
                throw failure("set the validity")
            }
            guard X509_set_pubkey(cert, publicKey) == 1 else { throw failure("set the public key") }
            let name = X509_get_subject_name(cert)
            guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0) == 1 else {
                throw failure("set the common name \"\(commonName)\"")
            }
            if let organization,
               X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, organization, -1, -1, 0) != 1 {
                throw failure("set the organization")
            }
        } catch {
            X509_free(cert)
            throw error
        }
        return cert
    }

    private static func add(_ nid: Int32, _ value: String, to cert: OpaquePointer, ctx: inout X509V3_CTX) throws(TLSError) {
        guard let ext = X509V3_EXT_conf_nid(nil, &ctx, nid, value) else {
            throw failure("build the extension \(String(cString: OBJ_nid2sn(nid))) = \(value)")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(cert, ext, -1) == 1 else { throw failure("add the extension \(value)") }
    }

    private static func sign(_ cert: OpaquePointer, with key: OpaquePointer) throws(TLSError) {
        guard X509_sign(cert, key, EVP_sha256()) > 0 else { throw failure("sign the certificate") }
    }

    private static func failure(_ what: String) -> TLSError {
        .certificateAuthority("cannot \(what): \(OpenSSLSupport.takeErrorReason() ?? "OpenSSL error")")
    }
}
