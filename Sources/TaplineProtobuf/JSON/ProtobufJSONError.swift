/// Why a message cannot be mapped to or from proto3 JSON. `pointer` is the RFC 6901 JSON
/// Pointer of the offending value (in the JSON read, or the JSON being written), e.g.
/// `/items/2/price`; the empty string is the whole document.
public struct ProtobufJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var pointer: String
    /// What is wrong and what was expected, for a user to fix the input.
    public var reason: String

    public init(at pointer: String, _ reason: String) {
        self.pointer = pointer
        self.reason = reason
    }

    public var description: String { "at \(pointer.isEmpty ? "the top level" : pointer): \(reason)" }

    /// `pointer` extended by one member name or array index, escaped as RFC 6901 requires (`~0`, `~1`).
    static func pointer(_ pointer: String, _ token: String) -> String {
        pointer + "/" + token.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}
