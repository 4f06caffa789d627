/// Why bytes do not decode as the message type they were given as. Each case names the
/// field path (`order.items[2].price`, from the top message) and the byte offset, so a user
/// can tell a wrong `--type` from a damaged message.
public struct ProtobufDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The bytes are not protobuf wire format at all.
        case wire(ProtobufWireError)
        /// A declared field arrived with a wire type its type cannot have (a sign of the wrong message type).
        case wrongWireType(field: String, fieldType: String, got: ProtobufWireType)
        /// A `string` field holding bytes that are not UTF-8.
        case invalidUTF8(field: String)
        /// Messages nested deeper than `limit` (`ProtobufMessageDecoder.maxDepth`).
        case nestingTooDeep(limit: Int)
        /// A message type the schema does not define (a field's type, or an `Any`'s payload).
        case unknownType(String)
    }

    public var reason: Reason
    /// The offset of the offending byte in the decoded buffer.
    public var offset: Int

    public init(_ reason: Reason, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        switch reason {
        case .wire(let error):
            return error.description
        case .wrongWireType(let field, let fieldType, let got):
            return "field \(field) (\(fieldType)) has wire type \(got.rawValue) (\(got)) at byte \(offset): is this the right message type?"
        case .invalidUTF8(let field):
            return "string field \(field) at byte \(offset) is not valid UTF-8"
        case .nestingTooDeep(let limit):
            return "messages nested deeper than \(limit) levels at byte \(offset)"
        case .unknownType(let name):
            return "type \(name) at byte \(offset) is not defined in the loaded schema"
        }
    }
}
