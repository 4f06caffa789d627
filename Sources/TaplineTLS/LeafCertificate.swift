/// A minted leaf certificate with its private key, ready to present.
/// Immutable; holds OpenSSL objects with their own reference counts, so it can
/// be shared across event loops.
public final class LeafCertificate: @unchecked Sendable {
    /// The host name or IP address it was minted for.
    public let host: String
    init(host: String) { self.host = host }
}
