/// What shapes the connections an HTTP client opens to servers: how long it waits
/// for one, how much it queues on one, and which server certificates it trusts.
///
/// A value type, built once by the owner (the proxy derives it from its own
/// configuration) and shared read-only by every event loop.
public struct HTTPClientConfiguration: Sendable, Equatable {
    /// TCP connect, and again the TLS handshake, to a server (milliseconds); exceeded:
    /// an `upstreamTimeout` failure.
    public var connectTimeout = 10_000
    /// Socket write-buffer watermarks (bytes): above `high` a stream reports itself not
    /// writable until it is back under `low`.
    public var writeHighWatermark = 128 * 1024
    public var writeLowWatermark = 32 * 1024
    /// Verify server certificates against the system's trust store (and `additionalTrustFile`).
    public var verifyCertificates = true
    /// Extra CA certificates (PEM) trusted for servers.
    public var additionalTrustFile: String?

    public init() {}
}
