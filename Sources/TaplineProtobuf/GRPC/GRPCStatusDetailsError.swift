/// Why a `grpc-status-details-bin` value could not be decoded.
public enum GRPCStatusDetailsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field value is not base64 (padded or not).
    case notBase64
    /// The decoded bytes are not a valid `google.rpc.Status` message.
    case malformed(ProtobufWireError)
    /// A string field (`message`, an `Any`'s `type_url`) is not valid UTF-8.
    case invalidUTF8(field: String, offset: Int)

    public var description: String {
        switch self {
        case .notBase64:
            return "grpc-status-details-bin is not base64"
        case .malformed(let error):
            return "grpc-status-details-bin is not a google.rpc.Status message: \(error)"
        case .invalidUTF8(let field, let offset):
            return "grpc-status-details-bin: the \(field) at byte \(offset) is not UTF-8"
        }
    }
}
