/// The moments of one flow's life, all optional because a flow may end early.
/// Each is a wall-clock `Timestamp`; HAR-style durations are differences.
public struct FlowTimings: Sendable, Equatable {
    /// The request head was complete at the proxy.
    public var requestStart: Timestamp?
    /// Upstream name resolution began / ended (absent when reusing a connection).
    public var dnsStart: Timestamp?
    public var dnsEnd: Timestamp?
    /// TCP connect to the upstream began / completed.
    public var connectStart: Timestamp?
    public var connectEnd: Timestamp?
    /// Upstream TLS handshake began / completed.
    public var tlsStart: Timestamp?
    public var tlsEnd: Timestamp?
    /// The whole request (head and body) was handed to the upstream socket.
    public var requestSent: Timestamp?
    /// The first byte of the upstream response arrived.
    public var firstResponseByte: Timestamp?
    /// The response was completely relayed to the client (or the flow ended).
    public var done: Timestamp?

    public init() {}
}
