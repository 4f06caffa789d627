import TaplineExport
import TaplineHTTPClient

extension MockResponder {
    /// How the mock answers, beyond the recordings (the `tapline mock` options). A value type.
    public struct Options: Sendable {
        public var rules = MockMatchRules()
        public var sequence = MockSequenceMode.last
        public var latency = MockLatency.none
        /// When a mocked WebSocket's server messages go after what they wait for (their
        /// recorded gap by default; `--latency` sets it too: `none` sends at once).
        public var webSocketPace = MockLatency.recorded
        /// `--strict`: a WebSocket client message that differs from the recording closes it with 1008.
        public var strictWebSocket = false
        /// The status of an unmatched request's near-miss report (404, or 502 with `--unmatched 502`).
        public var unmatchedStatus = 404
        /// `--fallback URL`: unmatched requests go to this server instead.
        public var fallback: UpstreamTarget?
        /// How live gRPC calls' request messages are read (`--proto`, `--descriptor-set`);
        /// the recordings must be loaded with the same (`MockSessionLoader.load`).
        public var grpcDecoder = GRPCCallDecoder(schema: nil)

        public init() {}
    }
}
