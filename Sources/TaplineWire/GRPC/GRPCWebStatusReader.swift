/// Reads the gRPC status of a gRPC-Web response from its body as it passes: the
/// `grpc-status` and `grpc-message` of its trailer frame (PROTOCOL-WEB.md: a gRPC-Web
/// response carries the call's trailers in the body, flag 0x80), decoding base64 first
/// for `application/grpc-web-text`. What a native call's trailers say, for a gRPC-Web one.
///
/// Sans-I/O and streaming: keeps the framer's state (a trailer frame's few bytes, no
/// message payload) and, for text, up to 3 characters of a cut base64 group. A body that
/// is not valid gRPC-Web is given up on (no status). A value type, usable from any thread.
public struct GRPCWebStatusReader: Sendable {
    private var framer = GRPCMessageFramer(framing: .grpcWeb, maxMessageBytes: .max)
    private var text: GRPCWebTextDecoder?
    private var failed = false
    /// The status the trailer frame carried, once it passed.
    public private(set) var status: GRPCStatus?

    /// Nil when `contentType` is not a gRPC-Web media type (`GRPCWebMediaType`).
    public init?(contentType: String?) {
        guard let type = GRPCWebMediaType(contentType) else { return nil }
        if type.isText { text = GRPCWebTextDecoder() }
    }

    /// The next response body bytes, as the client gets them.
    public mutating func consume(_ bytes: [UInt8]) {
        guard !failed, status == nil else { return }
        var events: [GRPCFramerEvent] = []
        do {
            if text != nil {
                try framer.consume(try text!.decode(bytes)[...], into: &events)
            } else {
                try framer.consume(bytes[...], into: &events)
            }
        } catch {
            failed = true
        }
        for case .trailers(_, let fields) in events { status = GRPCStatus(fields: fields) }
    }
}
