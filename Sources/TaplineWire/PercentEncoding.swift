/// Percent-decoding and -encoding of URL components and form fields (RFC 3986 §2.1,
/// WHATWG `application/x-www-form-urlencoded`), and of gRPC's `grpc-message`. Pure
/// functions; malformed escapes are kept literally, invalid UTF-8 becomes U+FFFD.
public enum PercentEncoding {
    /// `%41` -> `A`; with `plusAsSpace` (form bodies and query strings) `+` -> space.
    public static func decode(_ text: Substring, plusAsSpace: Bool = false) -> String {
        guard text.contains("%") || (plusAsSpace && text.contains("+")) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        let input = Array(text.utf8)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "%"), index + 2 < input.count,
               let high = HTTP1ByteClass.hexValue(input[index + 1]), let low = HTTP1ByteClass.hexValue(input[index + 2]) {
                bytes.append(UInt8(high << 4 | low))
                index += 3
            } else {
                bytes.append(plusAsSpace && byte == UInt8(ascii: "+") ? 0x20 : byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func decode(_ text: String, plusAsSpace: Bool = false) -> String {
        decode(text[...], plusAsSpace: plusAsSpace)
    }

    /// Escapes everything but RFC 3986 unreserved characters and `keep`.
    public static func encode(_ text: String, keep: String = "") -> String {
        let allowed = Set(keep.utf8)
        var out: [UInt8] = []
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                if allowed.contains(byte) {
                    out.append(byte)
                } else {
                    out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `name=value&...` pairs, decoded (`+` is a space); a pair without `=` has a nil value.
    public static func formPairs(_ text: Substring) -> [(name: String, value: String?)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return (decode(pair[..<equals], plusAsSpace: true), decode(pair[pair.index(after: equals)...], plusAsSpace: true))
            }
            return (decode(pair, plusAsSpace: true), nil)
        }
    }
}
