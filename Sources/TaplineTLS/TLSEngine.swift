

/// Sans-I/O TLS endpoint over OpenSSL memory BIOs, in either role.
///
/// Feed ciphertext from the peer with `receive(ciphertext:)`; it returns any
/// plaintext that decrypted. Hand plaintext to send to `send(plaintext:)`.
/// After either call (and after the handshake progresses), drain
/// `takeOutgoingCiphertext()` and write it to the socket.
///
/// Not thread-safe: owned by one connection on one event loop.
public final class TLSEngine {
    public enum State: Sendable, Equatable { case handshaking, established, closed }

    /// A client engine toward an upstream.
    public init(client configuration: TLSClientConfiguration) throws(TLSError) {}

    /// A server engine toward an intercepted client, presenting `certificate`.
    public init(server configuration: TLSServerConfiguration) throws(TLSError) {}

    public var state: State { .handshaking }

    /// Feeds bytes from the peer; returns decrypted application data (maybe empty).
    /// Throws on handshake failure or a protocol error.
    public func receive(ciphertext: some Collection<UInt8>) throws(TLSError) -> [UInt8] { [] }

    /// Encrypts application data (queued until the handshake is done).
    public func send(plaintext: some Collection<UInt8>) throws(TLSError) {}

    /// Starts the handshake (client role: produces the ClientHello).
    public func startHandshake() throws(TLSError) {}

    /// Bytes to write to the socket now.
    public func takeOutgoingCiphertext() -> [UInt8] { [] }

    /// Queues close_notify.
    public func close() {}

    /// True once the peer has sent close_notify.
    public var peerClosed: Bool { false }

    // Negotiated parameters, valid once established.
    public var protocolVersion: String? { nil }
    public var cipherName: String? { nil }
    public var negotiatedALPN: String? { nil }
    /// Server role: the SNI the client sent.
    public var serverName: String? { nil }
    /// Client role: the upstream's leaf certificate.
    public var peerCertificate: PeerCertificate? { nil }
}
