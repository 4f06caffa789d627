/// Why a `application/grpc-web-text` body is not base64 of gRPC-Web frames. Offsets count
/// characters of the text body from its first.
public enum GRPCWebTextError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A 4-character group that is not standard base64 (a character outside the
    /// alphabet, or `=` anywhere but the end of a group), starting at `offset`.
    case invalidGroup(offset: Int)
    /// The body ended `count` characters into a 4-character group.
    case unfinishedGroup(count: Int)

    public var description: String {
        switch self {
        case .invalidGroup(let offset):
            return "the grpc-web-text body is not base64 at character \(offset)"
        case .unfinishedGroup(let count):
            return "the grpc-web-text body ends \(count) characters into a 4-character base64 group"
        }
    }
}
