/// Why a gRPC body is not a valid sequence of length-prefixed messages. Offsets count
/// bytes from the start of the direction's body.
public enum GRPCFramingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A frame declares a payload longer than the framer's `maxMessageBytes`.
    case messageTooLarge(length: Int, limit: Int, frameOffset: Int)
    /// A flag byte with bits gRPC reserves (any but bit 0; bit 7 too outside gRPC-Web,
    /// and a compressed gRPC-Web trailer frame, which PROTOCOL-WEB.md does not define).
    case reservedFlags(UInt8, frameOffset: Int)
    /// The stream ended inside a frame: `received` of the `expected` bytes of the frame
    /// (prefix included) starting at `frameOffset` had arrived.
    case truncated(received: Int, expected: Int, frameOffset: Int)
    /// A gRPC-Web trailer frame whose payload is not `name: value` lines.
    case malformedTrailers(frameOffset: Int)
    /// Bytes after a gRPC-Web trailer frame, which must be the body's last.
    case dataAfterTrailers(offset: Int)

    public var description: String {
        switch self {
        case .messageTooLarge(let length, let limit, let offset):
            return "the gRPC message at byte \(offset) declares \(length) bytes, over the limit of \(limit)"
        case .reservedFlags(let flags, let offset):
            return "the gRPC frame at byte \(offset) has reserved flag bits set (flags 0x\(String(flags, radix: 16)))"
        case .truncated(let received, let expected, let offset):
            return "the gRPC stream ends inside the frame at byte \(offset) (\(received) of \(expected) bytes)"
        case .malformedTrailers(let offset):
            return "the gRPC-Web trailer frame at byte \(offset) is not \"name: value\" lines"
        case .dataAfterTrailers(let offset):
            return "bytes follow the gRPC-Web trailer frame (at byte \(offset))"
        }
    }
}
