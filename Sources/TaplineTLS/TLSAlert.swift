/// A TLS alert seen on a connection, in either direction.
///
/// The proxy uses it to tell why an intercepted client gave up: a client that
/// pins certificates or does not trust the Tapline CA typically sends
/// "unknown ca", "bad certificate" or "certificate unknown" (`sentByPeer` true).
public struct TLSAlert: Sendable, Equatable, CustomStringConvertible {
    /// OpenSSL's long description, lowercased: "unknown ca", "bad certificate",
    /// "handshake failure", "close notify", ...
    public var name: String
    /// True when the peer sent it; false when this endpoint sent it.
    public var sentByPeer: Bool
    /// True for a fatal alert (level 2).
    public var isFatal: Bool

    public init(name: String, sentByPeer: Bool, isFatal: Bool) {
        self.name = name
        self.sentByPeer = sentByPeer
        self.isFatal = isFatal
    }

    public var description: String {
        "\(isFatal ? "fatal" : "warning") alert \"\(name)\" \(sentByPeer ? "received from the peer" : "sent to the peer")"
    }
}
