import TaplineFlow

/// An error as recorded in a capture (`{"kind","message"}`). `kind` stays a
/// string so errors written by a newer tapline with kinds this build does not
/// know still read; `knownKind` maps it when it can.
public struct RecordedError: Sendable, Equatable, CustomStringConvertible {
    public var kind: String
    public var message: String

    public init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }

    public init(_ error: FlowError) {
        self.init(kind: error.kind.rawValue, message: error.message)
    }

    public var knownKind: FlowErrorKind? { FlowErrorKind(rawValue: kind) }
    public var description: String { "\(kind): \(message)" }
}
