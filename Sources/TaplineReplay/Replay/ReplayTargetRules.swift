/// Where replayed flows go and what Host they name (`--target`, `--keep-host`,
/// `--map-host`). A value type.
public struct ReplayTargetRules: Sendable, Equatable {
    /// Every flow to this server; nil: each to its recorded scheme and authority.
    public var target: ReplayTarget?
    /// Keep the recorded Host / `:authority` even when the flow goes elsewhere.
    public var keepHost: Bool
    /// Recorded authority (`host` or `host:port`, as recorded) to the one to use
    /// instead (`--map-host old=new`); applies when there is no `target`.
    public var hostMap: [String: String]

    public init(target: ReplayTarget? = nil, keepHost: Bool = false, hostMap: [String: String] = [:]) {
        self.target = target
        self.keepHost = keepHost
        self.hostMap = hostMap
    }

    /// Adds a `--map-host old=new` rule.
    public mutating func addHostMapping(_ text: String) throws(ReplayUsageError) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].contains("/") else {
            throw ReplayUsageError("--map-host takes old=new, each a host or host:port, e.g. api.example.com=127.0.0.1:8080; not \(text.debugDescription)")
        }
        hostMap[parts[0].lowercased()] = parts[1]
    }
}
