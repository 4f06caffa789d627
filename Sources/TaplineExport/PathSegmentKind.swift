import TaplineWire

/// What a URL path segment looks like: a fixed word of the API, or a value
/// that identifies something (and so becomes a path variable).
///
/// `classify` is a pure function over the percent-decoded segment:
/// - `number`: digits only (`42`);
/// - `uuid`: `8-4-4-4-12` hex digits;
/// - `ulid`: 26 Crockford base32 characters with at least one digit;
/// - `date`: `YYYY-MM-DD`, optionally followed by `T` and a time;
/// - `email`: `local@domain.tld`;
/// - `hexToken`: 16 or more hex digits with at least one digit and one letter (hashes, object ids);
/// - `token`: 20 or more base64url characters (`=` padding allowed) mixing
///   upper case, lower case and digits, or 32 or more with letters and digits;
/// - `literal`: anything else (API words, slugs, file names).
///
/// `slug` is never a shape: it marks a value of no particular shape
/// (`red-widget`, `SKU-101`) that `EndpointNormalizer` found to vary among
/// sibling requests to one endpoint.
public enum PathSegmentKind: String, Sendable, Equatable {
    case literal, number, uuid, ulid, date, email, hexToken, token, slug

    public var isVariable: Bool { self != .literal }

    /// The suffix of the variable name for this kind (`userId`, `reportDate`, `userEmail`).
    var nameSuffix: String {
        switch self {
        case .date: return "Date"
        case .email: return "Email"
        default: return "Id"
        }
    }

    /// One pass over the segment's bytes: every test below is a count or an
    /// "all bytes are ..." flag gathered on the way; only an email (a segment with
    /// an `@`) is checked on the text.
    public static func classify(_ rawSegment: String) -> PathSegmentKind {
        // `PercentEncoding.decode` returns a text without `%` as it is.
        let segment = rawSegment.utf8.contains(UInt8(ascii: "%")) ? PercentEncoding.decode(rawSegment) : rawSegment
        let kind: PathSegmentKind? = segment.withUTF8Bytes { bytes in
            guard !bytes.isEmpty else { return .literal }
            // The body of a token: the bytes before any trailing `=` padding.
            var bodyEnd = bytes.count
            while bodyEnd > 0, bytes[bodyEnd - 1] == UInt8(ascii: "=") { bodyEnd -= 1 }
            var digits = 0, letters = 0, upper = false, lower = false, at = false
            var allHex = true, allCrockford = true, bodyAllBase64URL = true
            for (position, byte) in bytes.enumerated() {
                if isDigit(byte) {
                    digits += 1
                } else if isLetter(byte) {
                    letters += 1
                    if byte < 0x61 { upper = true } else { lower = true }
                    if !isHex(byte) { allHex = false }
                    if !isCrockford(byte) { allCrockford = false }
                } else {
                    allHex = false
                    allCrockford = false
                    if position < bodyEnd, byte != UInt8(ascii: "-"), byte != UInt8(ascii: "_") { bodyAllBase64URL = false }
                    if byte == UInt8(ascii: "@") { at = true }
                }
            }
            if digits == bytes.count { return .number }
            // An `@` is no UUID, ULID, hex or token byte: a date, an email or a literal.
            if at { return isDate(bytes) ? .date : nil }
            if isUUID(bytes) { return .uuid }
            if isDate(bytes) { return .date }
            if bytes.count == 26, digits > 0, allCrockford { return .ulid }
            if bytes.count >= 16, digits > 0, letters > 0, allHex { return .hexToken }
            if bodyEnd >= 20, bodyAllBase64URL, digits > 0, (upper && lower) || (bodyEnd >= 32 && letters > 0) {
                return .token
            }
            return .literal
        }
        return kind ?? (isEmail(segment) ? .email : .literal)
    }

    /// Whether the percent-decoded segment is a file name: a name, a dot and an
    /// extension of 1 to 8 ASCII letters and digits with at least one letter
    /// (`data.json`, `favicon.ico`, `big.bin`; not `v1.2`, `.env` or `1.5`).
    public static func isFileName(_ rawSegment: String) -> Bool {
        let segment = PercentEncoding.decode(rawSegment)
        guard let dot = segment.lastIndex(of: "."), dot != segment.startIndex else { return false }
        let ext = segment.utf8[segment.utf8.index(after: dot)...]
        return (1...8).contains(ext.count) && ext.allSatisfy { isDigit($0) || isLetter($0) } && ext.contains(where: isLetter)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    private static func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) }
    private static func isBase64URL(_ b: UInt8) -> Bool {
        isDigit(b) || isLetter(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }
    private static func isCrockford(_ b: UInt8) -> Bool {
        let upper = isLetter(b) ? b & ~0x20 : b
        return isDigit(b) || (isLetter(b) && upper != UInt8(ascii: "I") && upper != UInt8(ascii: "L")
                              && upper != UInt8(ascii: "O") && upper != UInt8(ascii: "U"))
    }

    private static func isUUID(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count == 36 else { return false }
        for (i, byte) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if byte != UInt8(ascii: "-") { return false }
            } else if !isHex(byte) {
                return false
            }
        }
        return true
    }

    private static func isDate(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return false }
        for i in [0, 1, 2, 3, 5, 6, 8, 9] where !isDigit(b[i]) { return false }
        let month = Int(b[5] - 0x30) * 10 + Int(b[6] - 0x30)
        let day = Int(b[8] - 0x30) * 10 + Int(b[9] - 0x30)
        guard (1...12).contains(month), (1...31).contains(day) else { return false }
        return b.count == 10 || b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t")
    }

    private static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains(" ") else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }
    }
}
