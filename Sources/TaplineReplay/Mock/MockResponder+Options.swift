import TaplineHTTPClient

extension MockResponder {
    /// How the mock answers, beyond the recordings (the `tapline mock` options). A value type.
    public struct Options: Sendable {
        public var rules = MockMatchRules()
        public var sequence = MockSequenceMode.last
        public var latency = MockLatency.none
        /// The status of an unmatched request's near-miss report (404, or 502 with `--unmatched 502`).
        public var unmatchedStatus = 404
        /// `--fallback URL`: unmatched requests go to this server instead.
        public var fallback: UpstreamTarget?

        public init() {}
    }
}
