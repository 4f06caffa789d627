import TaplineExport
import TaplineTLS
import TaplineWire

/// The fields of a form body as (name, value) pairs, the form `tapline diff` compares
/// and pairs by: `application/x-www-form-urlencoded` decoded (`+` as space, a name
/// without `=` has the value ""); `multipart/form-data` (`MultipartParser`) with a
/// text part's value as its text and any other part (a file, or bytes that are not
/// UTF-8) as `file "name.png" image/png, 2048 bytes, sha256 …`. So the random
/// boundaries of two uploads of the same form do not make them differ. Pure.
enum FormFields {
    /// nil when the body is not a form, or does not parse as the form its type says.
    static func fields(_ bytes: [UInt8], mediaType: MediaType?) -> [(name: String, value: String)]? {
        guard let mediaType else { return nil }
        if mediaType.isFormURLEncoded {
            guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
            return PercentEncoding.formPairs(text[...]).map { ($0.name, $0.value ?? "") }
        }
        guard mediaType.essence == "multipart/form-data", let boundary = mediaType.parameter("boundary"),
              let parts = MultipartParser.parse(bytes, boundary: boundary) else { return nil }
        return parts.map { part in
            if part.fileName == nil, let text = String(validating: part.body, as: UTF8.self) { return (part.name, text) }
            let described = ["file", part.fileName?.debugDescription, part.contentType].compactMap { $0 }.joined(separator: " ")
            return (part.name, "\(described), \(part.body.count) bytes, sha256 \(SHA256Digest.hex(part.body))")
        }
    }
}
