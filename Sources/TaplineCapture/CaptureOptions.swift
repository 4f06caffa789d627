/// Settings of one capture session.
public struct CaptureOptions: Sendable {
    /// Body bytes kept per message; the rest still flows and is counted (`--max-body-capture`). nil: no limit.
    public var maxBodyBytes: UInt64?
    /// What the session records about how it was started (mode, listen address, upstream), for `session.json`.
    public var proxyDescription: [String: String]
    /// The command line `tapline run` ran as the proxy's client (argv), for `session.json`'s
    /// `command`; nil for a session not tied to one command.
    public var command: [String]?
    /// The tapline version written into `session.json`.
    public var taplineVersion: String
    /// Queued bytes (body bytes plus ~200 per event) above which the writer reports
    /// `isBackedUp` so the proxy pauses reading. Default 16 MiB.
    public var highWatermark: Int
    /// Queued bytes below which a backed-up writer calls its `whenDrained` callbacks. Default 4 MiB.
    public var lowWatermark: Int
    /// A body segment file (`bodies/NNNNNN.bin`) is closed and the next one started once it
    /// has reached this many bytes. Default 1 GiB.
    public var segmentLimit: UInt64
    /// `session.json`'s `mode` (`replay`); nil for the proxy.
    public var mode: String?
    /// `session.json`'s `sourceSession`: the session a replay re-sent.
    public var sourceSession: String?

    public init(maxBodyBytes: UInt64? = nil, proxyDescription: [String: String] = [:],
                command: [String]? = nil, taplineVersion: String = "dev",
                highWatermark: Int = 16 << 20, lowWatermark: Int = 4 << 20,
                segmentLimit: UInt64 = 1 << 30, mode: String? = nil, sourceSession: String? = nil) {
        self.mode = mode
        self.sourceSession = sourceSession
        self.maxBodyBytes = maxBodyBytes
        self.proxyDescription = proxyDescription
        self.command = command
        self.taplineVersion = taplineVersion
        self.highWatermark = max(1, highWatermark)
        self.lowWatermark = min(max(0, lowWatermark), max(1, highWatermark))
        self.segmentLimit = max(1, segmentLimit)
    }
}
