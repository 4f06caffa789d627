import TaplineCompression

/// Why a gRPC message's payload could not be turned into its protobuf bytes for the
/// capture and `show`. The call itself is unaffected: the proxy forwards bytes as sent.
public enum GRPCMessageDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call's `grpc-encoding` is one Tapline does not decode (snappy, zstd, a custom one).
    case unsupportedEncoding(String)
    /// The compressed flag is set but the call named no `grpc-encoding` (or `identity`),
    /// which gRPC forbids.
    case compressedWithoutEncoding
    /// The payload is not valid data of `encoding`, or would decode past the size limit.
    case failed(encoding: String, reason: CompressionError)

    public var description: String {
        switch self {
        case .unsupportedEncoding(let name):
            return "not decoded: encoding \(name)"
        case .compressedWithoutEncoding:
            return "not decoded: the message is flagged compressed but the call has no grpc-encoding"
        case .failed(let encoding, let reason):
            return "not decoded: the \(encoding) message is damaged: \(reason)"
        }
    }
}
