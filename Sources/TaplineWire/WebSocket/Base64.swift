/// Standard base64 (RFC 4648 §4, with padding), for the WebSocket handshake
/// keys and gRPC's binary metadata (`-bin` fields, sent with or without padding), and
/// base64url for HTTP/2's `HTTP2-Settings` (`decodeURL`).
/// TaplineWire has no Foundation.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i < input.count {
            let b0 = input[i], b1 = i + 1 < input.count ? input[i + 1] : 0, b2 = i + 2 < input.count ? input[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < input.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < input.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The decoded bytes, or nil when `text` is not padded standard base64 (or, with
    /// `requirePadding` false, standard base64 whose trailing `=` may be left out, as
    /// gRPC's PROTOCOL-HTTP2.md lets binary metadata be sent).
    public static func decode(_ text: String, requirePadding: Bool = true) -> [UInt8]? {
        var chars = Array(text.utf8)
        if !requirePadding, chars.count % 4 != 1 {
            chars += repeatElement(UInt8(ascii: "="), count: (4 - chars.count % 4) % 4)
        }
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            var values: [UInt8] = []
            var padding = 0
            for j in 0..<4 {
                let c = chars[i + j]
                if c == UInt8(ascii: "=") {
                    guard i + 4 == chars.count, j >= 2 else { return nil }
                    padding += 1
                    values.append(0)
                } else {
                    guard padding == 0, let v = value(of: c) else { return nil }
                    values.append(v)
                }
            }
            out.append(values[0] << 2 | values[1] >> 4)
            if padding < 2 { out.append(values[1] << 4 | values[2] >> 2) }
            if padding < 1 { out.append(values[2] << 6 | values[3]) }
            i += 4
        }
        return out
    }

    /// The decoded bytes of base64url (RFC 4648 §5) as HTTP/2's `HTTP2-Settings` header
    /// carries it (RFC 7540 §3.2.1): without padding. The standard alphabet's `+` and `/`,
    /// `=` and spaces are taken too, as peers send either; nil on any other byte. Bits left
    /// over after the last whole byte are dropped: the caller checks the length it expects.
    public static func decodeURL(_ text: String) -> [UInt8]? {
        var bits: UInt32 = 0
        var bitCount = 0
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        for c in text.utf8 {
            if c == UInt8(ascii: "=") || c == UInt8(ascii: " ") { continue }
            guard let value = c == UInt8(ascii: "-") ? 62 : c == UInt8(ascii: "_") ? 63 : value(of: c) else { return nil }
            bits = (bits << 6) | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8(truncatingIfNeeded: bits >> UInt32(bitCount)))
            }
        }
        return output
    }

    private static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
