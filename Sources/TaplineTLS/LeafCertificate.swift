import COpenSSL

/// A minted leaf certificate with its private key, ready to present.
///
/// Immutable. Holds the leaf `X509` and a server `SSL_CTX` built once at mint
/// time (leaf, then the CA certificate as chain, and the key), which every
/// server `TLSEngine` presenting this leaf shares. OpenSSL objects carry their
/// own reference counts and are only read after init, so a leaf can be shared
/// across event loops.
public final class LeafCertificate: @unchecked Sendable {
    /// The host name or IP address it was minted for (normalized: lowercase,
    /// no brackets, no trailing dot).
    public let host: String
    /// The leaf certificate in PEM (the leaf only, not the chain).
    public let certificatePEM: String
    /// SHA-256 of the leaf's DER encoding, lowercase hex.
    public let sha256Fingerprint: String

    /// Owned reference to the leaf.
    private let certificate: OpaquePointer
    /// The server context presenting this leaf.
    let serverContext: SSLContext

    /// Takes ownership of `certificate` (its reference is released in deinit,
    /// or here when building the context fails). `privateKey` and `issuer` are
    /// borrowed: the context takes its own references.
    init(host: String, certificate: OpaquePointer, privateKey: OpaquePointer, issuer: OpaquePointer) throws(TLSError) {
        let context: SSLContext
        do {
            context = try SSLContext.makeServer(certificate: certificate, privateKey: privateKey, chain: [issuer])
        } catch {
            X509_free(certificate)
            throw error
        }
        self.host = host
        self.certificate = certificate
        self.serverContext = context
        self.certificatePEM = OpenSSLSupport.pem(of: certificate)
        self.sha256Fingerprint = OpenSSLSupport.sha256Fingerprint(of: certificate)
    }

    deinit {
        X509_free(certificate)
    }
}
