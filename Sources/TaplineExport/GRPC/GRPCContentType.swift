import TaplineWire

/// How a gRPC body is laid out, read from its `Content-Type`: native gRPC
/// (`application/grpc`, `application/grpc+proto`, ...), gRPC-Web binary
/// (`application/grpc-web`, `+proto`) or gRPC-Web text (`application/grpc-web-text`,
/// the frames in base64), and whether the messages are JSON (`+json`) rather than protobuf.
public struct GRPCContentType: Sendable, Equatable {
    public var framing: GRPCFraming
    /// gRPC-Web text: the body is base64 of the frames.
    public var isBase64: Bool
    /// `+json`: each message is JSON text, not protobuf.
    public var isJSON: Bool

    /// Nil when `contentType` is not a gRPC or gRPC-Web media type (parameters ignored).
    public init?(_ contentType: String?) {
        // Most bodies are not gRPC: those are told apart before the media type is taken
        // apart (a replay asks for every flow).
        guard let contentType, Self.startsLikeGRPC(contentType),
              let media = MediaType(contentType), media.type == "application" else { return nil }
        let halves = media.subtype.split(separator: "+", maxSplits: 1)
        switch halves.first {
        case "grpc": (framing, isBase64) = (.grpc, false)
        case "grpc-web": (framing, isBase64) = (.grpcWeb, false)
        case "grpc-web-text": (framing, isBase64) = (.grpcWeb, true)
        default: return nil
        }
        isJSON = halves.count == 2 && halves[1] == "json"
    }

    /// Whether `contentType`, past leading spaces and tabs, starts with `application/grpc`
    /// (ASCII case-insensitively), as every media type `init` takes does.
    private static func startsLikeGRPC(_ contentType: String) -> Bool {
        contentType.utf8.withContiguousStorageIfAvailable { startsLikeGRPC($0) } ?? true
    }

    /// `startsLikeGRPC` on a field value's bytes, before any `String` is made of it. (A
    /// `String` made of the bytes starts alike: repairing invalid UTF-8 only puts in U+FFFD,
    /// which is not ASCII.)
    static func startsLikeGRPC(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = bytes.firstIndex { $0 != 0x20 && $0 != 0x09 } ?? bytes.endIndex
        let prefix = UnsafeBufferPointer(rebasing: bytes[start..<min(start + 16, bytes.endIndex)])
        return HTTPHeaders.bytesEqualIgnoringCase(prefix, "application/grpc")
    }

    /// `grpc`, `grpc-web` or `grpc-web-text`, as `show` names the protocol.
    public var name: String {
        switch (framing, isBase64) {
        case (.grpc, _): "grpc"
        case (.grpcWeb, false): "grpc-web"
        case (.grpcWeb, true): "grpc-web-text"
        }
    }
}
