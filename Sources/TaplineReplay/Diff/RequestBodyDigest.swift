import TaplineExport
import TaplineTLS
import TaplineWire

/// The request body's part of a `RequestKey`: a SHA-256 over a form of the body
/// that two sendings of the same request share. Forms (`FormFields`) by their
/// fields in name order, so multipart boundaries and parameter order do not count;
/// JSON re-serialized without whitespace (member order and number text kept);
/// a gRPC call by its request messages (`grpcDigest`); anything else by its bytes. "" for an empty body. Pure.
enum RequestBodyDigest {
    static func digest(_ bytes: [UInt8], mediaType: MediaType?) -> String {
        guard !bytes.isEmpty else { return "" }
        if let fields = FormFields.fields(bytes, mediaType: mediaType) {
            let sorted = fields.sorted { ($0.name, $0.value) < ($1.name, $1.value) }
            return SHA256Digest.hex(Array(sorted.map { "\($0.name)\u{0}\($0.value)" }.joined(separator: "\u{0}").utf8))
        }
        if mediaType?.isJSON == true, let value = try? JSONParser.parse(bytes) {
            return SHA256Digest.hex(Array(JSONWriter.text(value, indent: nil).utf8))
        }
        return SHA256Digest.hex(bytes)
    }

    /// A gRPC call's request messages (`GRPCCallDecoder.requestMessages`): each as JSON with
    /// every object's members sorted by name (so the field order of a schemaless decode does
    /// not count), or its payload's SHA-256 when it is not JSON.
    static func grpcDigest(_ messages: [(content: GRPCMessageContent, payload: ArraySlice<UInt8>)]) -> String {
        guard !messages.isEmpty else { return "" }
        let parts = messages.map { message in
            message.content.json.map { JSONWriter.text(sortedMembers($0), indent: nil) } ?? SHA256Digest.hex(Array(message.payload))
        }
        return SHA256Digest.hex(Array(parts.joined(separator: "\u{0}").utf8))
    }

    private static func sortedMembers(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.map { JSONMember($0.key, sortedMembers($0.value)) }
                .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) })
        case .array(let elements):
            return .array(elements.map(sortedMembers))
        default:
            return value
        }
    }
}
