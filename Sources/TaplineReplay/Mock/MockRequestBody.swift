import TaplineExport
import TaplineTLS
import TaplineWire

/// A request body in the form `tapline mock` compares it: JSON as a parsed document
/// (compared structurally, `JSONDiff`: member order, whitespace and number spelling do
/// not count), a form as its sorted fields (`FormFields`: parameter order and multipart
/// boundaries do not count), anything else by its bytes' SHA-256. A value type.
enum MockRequestBody: Sendable, Equatable {
    case empty
    case json(JSONValue)
    /// `name=value` per field, sorted (repeats kept: a multiset).
    case form([String])
    case bytes(sha256: String, count: Int)

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
        case .bytes(let digest, let count): return "\(count) bytes, sha256 \(digest.prefix(16))…"
        }
    }
}
