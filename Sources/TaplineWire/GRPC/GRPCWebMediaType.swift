/// A gRPC-Web `Content-Type` (PROTOCOL-WEB.md): `application/grpc-web` (binary frames) or
/// `application/grpc-web-text` (base64 of them), each optionally `+proto`, `+json`, ...
/// (parameters ignored, case-insensitive), and the native gRPC type a gateway sends
/// upstream for it.
///
/// A value type, usable from any thread.
public struct GRPCWebMediaType: Equatable, Sendable {
    /// `-text`: the body is base64 (`GRPCWebTextDecoder`).
    public let isText: Bool
    /// The message format suffix as sent, `+proto`, `+json`, ..., or empty.
    public let suffix: String

    /// Nil when `contentType` is not a gRPC-Web media type.
    public init?(_ contentType: String?) {
        guard let contentType else { return nil }
        let essence = contentType.prefix { $0 != ";" }.trimmingASCIIWhitespace().lowercased()
        for (base, isText) in [("application/grpc-web-text", true), ("application/grpc-web", false)] {
            guard essence.hasPrefix(base) else { continue }
            let rest = essence.dropFirst(base.count)
            guard rest.isEmpty || rest.first == "+" else { return nil }
            self.isText = isText
            suffix = String(rest)
            return
        }
        return nil
    }

    /// The native gRPC type for the same messages: `application/grpc` + `suffix`.
    public var nativeContentType: String { "application/grpc" + suffix }
}
