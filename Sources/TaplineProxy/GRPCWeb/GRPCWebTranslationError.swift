import TaplineWire

/// Why the gateway (`--grpc-web`) cannot pass a browser's gRPC-Web request on: its body
/// is not what its `Content-Type` says. The browser gets a trailer frame with
/// `grpc-status` 13 (INTERNAL) and this text as `grpc-message`.
enum GRPCWebTranslationError: Error, Equatable, CustomStringConvertible {
    /// An `application/grpc-web-text` body that is not base64.
    case requestNotBase64(GRPCWebTextError)
    /// A request body that is not whole length-prefixed gRPC messages (a truncated frame, reserved flags).
    case requestNotFramed(GRPCFramingError)

    var description: String {
        switch self {
        case .requestNotBase64(let error): return "malformed gRPC-Web request: \(error)"
        case .requestNotFramed(let error): return "malformed gRPC-Web request: \(error)"
        }
    }
}
