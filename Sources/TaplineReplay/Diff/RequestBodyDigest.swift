import TaplineExport
import TaplineTLS
import TaplineWire

/// The request body's part of a `RequestKey`: a SHA-256 over a form of the body
/// that two sendings of the same request share. Forms (`FormFields`) by their
/// fields in name order, so multipart boundaries and parameter order do not count;
/// JSON re-serialized without whitespace (member order and number text kept);
/// anything else by its bytes. "" for an empty body. Pure.
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
}
