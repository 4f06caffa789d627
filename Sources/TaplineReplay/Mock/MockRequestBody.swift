import TaplineExport
import TaplineTLS
import TaplineWire

/// A request body in the form `tapline mock` compares it: JSON as a parsed document
/// (compared structurally, `JSONDiff`: member order, whitespace and number spelling do
/// not count), a form as its sorted fields (`FormFields`: parameter order and multipart
/// boundaries do not count), a gRPC call as its request messages, anything else by its
/// bytes' SHA-256. A value type.
enum MockRequestBody: Sendable, Equatable {
    case empty
    /// A gRPC call's request messages in order (`GRPCCallDecoder.requestMessages`): each as
    /// JSON, decoded with the schema or schemaless by field number, so two encodings of
    /// one message compare equal (`MockRequestMatcher`); or why it could not be decoded.
    /// `payloadDigests`: each message's payload SHA-256, what a message that is not JSON
    /// is compared by.
    case grpc([GRPCMessageContent], payloadDigests: [String])
    case json(JSONValue)
    /// `name=value` per field, sorted (repeats kept: a multiset).
    case form([String])
    case bytes(sha256: String, count: Int)

    /// A gRPC request (by its `Content-Type`) as its messages, decoded by `grpcDecoder`;
    /// any other request as `init(_:contentType:)` takes it.
    init(_ bytes: [UInt8], target: String, headers: HTTPHeaders, grpcDecoder: GRPCCallDecoder) {
        if let messages = grpcDecoder.requestMessages(target: target, headers: headers, body: bytes) {
            self = .grpc(messages.map(\.content), payloadDigests: messages.map { SHA256Digest.hex(Array($0.payload)) })
        } else {
            self.init(bytes, contentType: headers.first(name: "Content-Type"))
        }
    }

    init(_ bytes: [UInt8], contentType: String?) {
        guard !bytes.isEmpty else {
            self = .empty
            return
        }
        let mediaType = MediaType(contentType)
        if let fields = FormFields.fields(bytes, mediaType: mediaType) {
            self = .form(fields.map { "\($0.name)=\($0.value)" }.sorted())
        } else if mediaType?.isJSON == true, let value = try? JSONParser.parse(bytes) {
            self = .json(value)
        } else {
            self = .bytes(sha256: SHA256Digest.hex(bytes), count: bytes.count)
        }
    }

    /// A short description for a near-miss report.
    var summary: String {
        switch self {
        case .empty: return "(empty)"
        case .json(let value):
            let text = JSONWriter.text(value, indent: nil)
            return text.count > 200 ? String(text.prefix(200)) + "…" : text
        case .form(let fields): return "form " + fields.joined(separator: "&")
        case .grpc(let messages, _):
            let text = messages.map { $0.json.map { JSONWriter.text($0, indent: nil) } ?? "(not decoded)" }.joined(separator: ", ")
            let summary = "gRPC \(messages.count) message\(messages.count == 1 ? "" : "s"): \(text)"
            return summary.count > 200 ? String(summary.prefix(200)) + "…" : summary
        case .bytes(let digest, let count): return "\(count) bytes, sha256 \(digest.prefix(16))…"
        }
    }
}
