/// Decodes a body through its `Content-Encoding` chain (RFC 9110 §8.4: the
/// codings are listed in the order they were applied, so they are undone from
/// last to first), for display and export.
///
/// Every stage is bounded by `maxOutputBytes`, so a small compressed body can
/// never expand past the limit in memory. `identity` and empty tokens are
/// skipped; `x-gzip` is gzip. `deflate` accepts zlib-wrapped data and, as
/// browsers do, falls back to raw DEFLATE. Stateless.
public enum ContentDecoder {
    /// The codings of a `Content-Encoding` value, lowercased, in the order applied.
    public static func codings(_ headerValue: String) -> [String] {
        headerValue.split(separator: ",").map { token in
            String(token.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()).lowercased()
        }.filter { !$0.isEmpty && $0 != "identity" }
    }

    /// True when every coding in the chain is one Tapline decodes.
    public static func canDecode(_ headerValue: String) -> Bool {
        codings(headerValue).allSatisfy { ContentCoding(rawValue: $0 == "x-gzip" ? "gzip" : $0) != nil }
    }

    /// The body with every coding of `contentEncoding` undone.
    ///
    /// - Throws: `unsupportedCoding` for a token it does not know, `failed` when the
    ///   data is corrupt, truncated or would decode to more than `maxOutputBytes`.
    public static func decode(_ body: [UInt8], contentEncoding: String,
                              maxOutputBytes: Int = 64 << 20) throws(ContentDecodingError) -> [UInt8] {
        var data = body
        for token in codings(contentEncoding).reversed() {
            let name = token == "x-gzip" ? "gzip" : token
            guard let coding = ContentCoding(rawValue: name) else { throw .unsupportedCoding(token) }
            do throws(CompressionError) {
                data = try decode(data, coding: coding, maxOutputBytes: maxOutputBytes)
            } catch {
                throw .failed(coding: name, reason: error)
            }
        }
        return data
    }

    /// Undoes one coding.
    public static func decode(_ data: [UInt8], coding: ContentCoding,
                              maxOutputBytes: Int) throws(CompressionError) -> [UInt8] {
        switch coding {
        case .identity:
            return data
        case .gzip:
            return try ZlibInflater.decompress(data, format: .gzip, maxOutputBytes: maxOutputBytes)
        case .deflate:
            do {
                return try ZlibInflater.decompress(data, format: .zlib(windowBits: 15), maxOutputBytes: maxOutputBytes)
            } catch .outputLimitExceeded(let limit) {
                throw .outputLimitExceeded(limit: limit)
            } catch {
                return try ZlibInflater.decompress(data, format: .raw(windowBits: 15), maxOutputBytes: maxOutputBytes)
            }
        case .br:
            return try BrotliDecoder.decompress(data, maxOutputBytes: maxOutputBytes)
        case .zstd:
            return try ZstdDecoder.decompress(data, maxOutputBytes: maxOutputBytes)
        }
    }
}
