/// Recorded against replayed latency of one endpoint (method and templated path,
/// `GET /users/:number`): request start to done, in milliseconds. A value type.
public struct EndpointLatency: Sendable, Equatable {
    public let endpoint: String
    /// Replayed flows counted.
    public let count: Int
    public let recorded: LatencyPercentiles?
    public let replayed: LatencyPercentiles?

    public init(endpoint: String, count: Int, recorded: LatencyPercentiles?, replayed: LatencyPercentiles?) {
        self.endpoint = endpoint
        self.count = count
        self.recorded = recorded
        self.replayed = replayed
    }
}
