/// Settings of one capture session.
public struct CaptureOptions: Sendable {
    /// Body bytes kept per message; the rest still flows and is counted (`--max-body-capture`). nil: no limit.
    public var maxBodyBytes: UInt64?
    /// What the session records about how it was started (mode, listen address, upstream), for `session.json`.
    public var proxyDescription: [String: String]

    public init(maxBodyBytes: UInt64? = nil, proxyDescription: [String: String] = [:]) {
        self.maxBodyBytes = maxBodyBytes
        self.proxyDescription = proxyDescription
    }
}
