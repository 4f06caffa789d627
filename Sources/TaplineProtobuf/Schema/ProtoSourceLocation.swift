/// A position in a `.proto` file, as protoc reports it: the file's import name
/// (e.g. `orders/v1/orders.proto`), a 1-based line and a 1-based column (a tab
/// advances the column to the next multiple of 8, as protoc counts).
public struct ProtoSourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the prefix of every schema error.
    public var description: String { "\(file):\(line):\(column)" }
}
