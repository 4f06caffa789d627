import TaplineExport
import TaplineWire
import XCTest

/// `PathSegmentKind.classify`: one byte scan, agreeing with the rule it replaced
/// (`referenceKind`, kept here as it was) on a table of every kind and on many
/// generated segments near each kind's edges.
final class PathSegmentKindTests: XCTestCase {
    private static let table: [(segment: String, kind: PathSegmentKind)] = [
        ("", .literal), ("users", .literal), ("v1", .literal), ("0001.bin", .literal), ("red-widget", .literal),
        ("%zz", .literal), ("%2F", .literal), ("a=b", .literal), ("é", .literal),
        ("42", .number), ("0", .number), ("%34%32", .number), ("00012345678901234567890", .number),
        ("123e4567-e89b-12d3-a456-426614174000", .uuid), ("123E4567-E89B-12D3-A456-426614174000", .uuid),
        ("123e4567-e89b-12d3-a456-42661417400g", .token), ("123e4567e89b-12d3-a456-4266141740000", .token),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", .ulid), ("01arz3ndektsv4rrffq69g5fav", .ulid),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAI", .literal), ("ABCDEFGHJKMNPQRSTVWXYZABCD", .literal),
        ("2024-01-31", .date), ("2024-01-31T10:00:00Z", .date), ("2024-01-31t1", .date), ("2024-01-31T@x.y", .date),
        ("2024-13-01", .literal), ("2024-01-32", .literal), ("2024-01-31x", .literal), ("2024-1-31", .literal),
        ("a@example.com", .email), ("first.last+tag@mail.example.org", .email), ("a@exämple.de", .email),
        ("%61%40b.co", .email), ("a@b", .literal), ("a b@c.de", .literal), ("a@b..c", .literal), ("@b.c", .literal),
        ("a@b@c.d", .literal), ("a@b_c.de", .literal),
        ("507f1f77bcf86cd799439011", .hexToken), ("0123456789abcdef", .hexToken), ("DEADBEEF00000001", .hexToken),
        ("0123456789abcde", .literal), ("deadbeefdeadbeefdeadbeef", .literal), ("0123456789012345a", .hexToken),
        ("dGhpc0lzQVRva2VuMTIz", .token), ("dGhpc0lzQVRva2VuMTIzNA==", .token), ("abc-DEF_ghi-0123456789", .token),
        ("abcdefghijklmnopqrstuvwxyz0123456", .token), ("abcdefghijklmnopqrstuvwxyz012345", .token),
        ("abcdefghijklmnopqrstuvwxyz01234", .literal), ("dGhpc0lzQVRva2VuMTI", .literal),
        ("dGhpc0lz=QVRva2VuMTIz", .literal), ("ABCDEFGHIJKLMNOPQRST0", .literal), ("abcdefghijklmnopqrstuvwxyzabcdefg", .literal),
        ("====================", .literal), ("dGhpc0lzQVRva2VuMTIz.", .literal),
    ]

    func testEveryKindIsFoundAsTheRuleItReplacedFindsIt() {
        for (segment, kind) in Self.table {
            XCTAssertEqual(PathSegmentKind.classify(segment), kind, segment)
            XCTAssertEqual(Self.referenceKind(segment), kind, "reference: \(segment)")
        }
        let shapes = Set(Self.table.map(\.kind))
        XCTAssertEqual(shapes, [.literal, .number, .uuid, .ulid, .date, .email, .hexToken, .token])
    }

    /// Segments made from each table entry by changing, dropping or adding a byte,
    /// and segments of random bytes from the alphabets every rule looks at.
    func testGeneratedSegmentsAreFoundAsTheRuleItReplacedFindsThem() {
        let alphabet = Array("0123456789abcdefABCDEFxyzILOUT-_=@.%+ é".unicodeScalars).map(String.init)
        // SplitMix64, so a failure repeats.
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var segments: [String] = []
        for (segment, _) in Self.table {
            let characters = segment.map(String.init)
            for _ in 0..<40 {
                var changed = characters
                let position = changed.isEmpty ? 0 : Int(next() % UInt64(changed.count))
                let replacement = alphabet[Int(next() % UInt64(alphabet.count))]
                switch next() % 3 {
                case 0 where !changed.isEmpty: changed[position] = replacement
                case 1 where !changed.isEmpty: changed.remove(at: position)
                default: changed.insert(replacement, at: position)
                }
                segments.append(changed.joined())
            }
        }
        for _ in 0..<5_000 {
            let length = Int(next() % 40)
            segments.append((0..<length).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }.joined())
        }
        var kinds = Set<PathSegmentKind>()
        for segment in segments {
            let kind = PathSegmentKind.classify(segment)
            XCTAssertEqual(kind, Self.referenceKind(segment), segment)
            kinds.insert(kind)
        }
        XCTAssertEqual(kinds.count, 8, "the generated segments reach every shape")
    }

    /// The rule `classify` had before its byte scan, unchanged.
    private static func referenceKind(_ rawSegment: String) -> PathSegmentKind {
        let segment = PercentEncoding.decode(rawSegment)
        let bytes = Array(segment.utf8)
        guard !bytes.isEmpty else { return .literal }
        if bytes.allSatisfy(isDigit) { return .number }
        if isUUID(bytes) { return .uuid }
        if isDate(bytes) { return .date }
        if isEmail(segment) { return .email }
        let digits = bytes.filter(isDigit).count
        let letters = bytes.filter(isLetter).count
        if bytes.count == 26, digits > 0, bytes.allSatisfy(isCrockford) { return .ulid }
        if bytes.count >= 16, digits > 0, letters > 0, bytes.allSatisfy(isHex) { return .hexToken }
        let body = bytes.last == UInt8(ascii: "=") ? Array(bytes.reversed().drop { $0 == UInt8(ascii: "=") }.reversed()) : bytes
        if body.count >= 20, body.allSatisfy(isBase64URL), digits > 0 {
            let upper = body.contains { $0 >= 0x41 && $0 <= 0x5A }
            let lower = body.contains { $0 >= 0x61 && $0 <= 0x7A }
            if (upper && lower) || (body.count >= 32 && letters > 0) { return .token }
        }
        return .literal
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
    private static func isUUID(_ b: [UInt8]) -> Bool {
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
    private static func isDate(_ b: [UInt8]) -> Bool {
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
