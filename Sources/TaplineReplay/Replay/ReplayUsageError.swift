/// A `tapline replay` option or argument that cannot be used, with what to give instead.
public struct ReplayUsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
