/// A host name pattern as given to `--passthrough`: `example.com` matches that
/// host only, `*.example.com` matches its subdomains (not itself), `*` matches
/// everything. Comparison is case-insensitive.
public struct HostPattern: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String

    public init(_ pattern: String) {
        self.pattern = pattern.lowercased()
    }

    public func matches(_ host: String) -> Bool {
        let host = host.lowercased()
        if pattern == "*" { return true }
        if pattern.hasPrefix("*.") {
            return host.hasSuffix(pattern.dropFirst(1)) && host.count > pattern.count - 1
        }
        return host == pattern
    }

    public var description: String { pattern }
}
