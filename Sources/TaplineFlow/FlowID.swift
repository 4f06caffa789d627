/// Identifies one flow (one exchange) within a proxy run and its capture session.
/// Ids start at 1 and increase in the order flows begin.
public struct FlowID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: FlowID, b: FlowID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// Identifies one client connection (and the upstream connections it opened).
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}
