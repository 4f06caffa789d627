import Foundation
import XCTest
@testable import TaplineCapture

/// The capture reader's own JSON parser: it must read what JSONSerialization read
/// (values generated with every kind of escape, number and nesting), reject what is
/// not RFC 8259 JSON with the byte offset and a reason, and keep the reader's
/// behaviour (warnings, session.json values) as it was.
final class CaptureJSONParserTests: XCTestCase {
    // MARK: - Agreement on generated values

    func testAgreesWithJSONSerializationOnGeneratedValues() throws {
        var generator = Generator(seed: 0x7A91_1E00)
        for round in 0..<3_000 {
            let (expected, text) = generator.value(depth: round % 5)
            let bytes = Array(text.utf8)
            let parsed: CaptureJSONValue
            do {
                parsed = try CaptureJSONParser.parse(bytes)
            } catch {
                return XCTFail("round \(round): \(error) for \(text.debugDescription)")
            }
            XCTAssertEqual(parsed, expected, "round \(round): \(text.debugDescription)")
            let foundation = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            XCTAssertTrue(Self.matches(parsed, foundation), "round \(round): \(text.debugDescription) vs \(foundation)")
            // The compact rendering reads back as the same value.
            XCTAssertEqual(try CaptureJSONParser.parse(Array(parsed.jsonText.utf8)), parsed, parsed.jsonText)
        }
    }

    func testNumbersAtTheLimits() throws {
        let cases: [(String, CaptureJSONValue)] = [
            ("0", .integer(0)), ("-0", .integer(0)), ("-1", .integer(-1)),
            ("9223372036854775807", .integer(Int64.max)), ("-9223372036854775808", .integer(Int64.min)),
            ("9223372036854775808", .double(9_223_372_036_854_775_808.0)),
            ("-9223372036854775809", .double(-9_223_372_036_854_775_809.0)),
            ("18446744073709551616", .double(18_446_744_073_709_551_616.0)),
            ("1.0", .double(1)), ("-0.0", .double(-0.0)), ("1e2", .double(100)), ("1E+2", .double(100)),
            ("2.5e-3", .double(0.0025)), ("1e-400", .double(0)), ("1.7976931348623157e308", .double(.greatestFiniteMagnitude)),
            ("5e-324", .double(.leastNonzeroMagnitude)), ("0.1", .double(0.1)),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try CaptureJSONParser.parse(Array(text.utf8)), expected, text)
            let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            XCTAssertTrue(Self.matches(expected, foundation), "\(text) vs \(foundation)")
        }
    }

    func testStringsEscapesAndUnicode() throws {
        let cases: [(String, String)] = [
            (#""""#, ""),
            (#""a\"b\\c\/d\b\f\n\r\t""#, "a\"b\\c/d\u{8}\u{C}\n\r\t"),
            (#""\u0000\u001f\u00e9\u4E2D""#, "\u{0}\u{1F}é中"),
            (#""\ud83d\ude00 and 😀""#, "😀 and 😀"),
            (#""é\u0301""#, "\u{E9}\u{301}"),
            ("\"\u{7F}\u{2028}\u{FEFF}\"", "\u{7F}\u{2028}\u{FEFF}"),
        ]
        for (text, expected) in cases {
            let value = try CaptureJSONParser.parse(Array(text.utf8))
            XCTAssertEqual(value, .string(expected), text)
        }
        // Scalars, not canonical equivalence: precomposed é is not e + U+0301.
        XCTAssertNotEqual(try CaptureJSONParser.parse(Array(#""\u00e9""#.utf8)), .string("e\u{301}"))
    }

    func testWhitespaceAroundAndByteOrderMark() throws {
        XCTAssertEqual(try CaptureJSONParser.parse(Array(" \t\r\n{ \"a\" : [ 1 , 2 ] }\r\n ".utf8)),
                       .object([(key: "a", value: .array([.integer(1), .integer(2)]))]))
        XCTAssertEqual(try CaptureJSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)), .object([]))
        XCTAssertEqual(try CaptureJSONParser.parse(Array("[]".utf8)), .array([]))
        XCTAssertEqual(try CaptureJSONParser.parse(Array("null".utf8)), .null)
    }

    // MARK: - Rejection

    func testMalformedInputsAreRejected() {
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("only whitespace", Array(" \n".utf8)),
            ("truncated object", Array(#"{"t":1,"type":"bo"#.utf8)),
            ("truncated number", Array(#"{"t":1"#.utf8)),
            ("truncated literal", Array("tru".utf8)),
            ("truncated escape", Array(#""ab\"#.utf8)),
            ("truncated unicode escape", Array(#""\u00"#.utf8)),
            ("trailing comma in object", Array(#"{"a":1,}"#.utf8)),
            ("trailing comma in array", Array("[1,2,]".utf8)),
            ("leading comma", Array("[,1]".utf8)),
            ("missing comma", Array(#"{"a":1 "b":2}"#.utf8)),
            ("missing colon", Array(#"{"a" 1}"#.utf8)),
            ("single quotes", Array("{'a':1}".utf8)),
            ("unquoted key", Array("{a:1}".utf8)),
            ("bad escape", Array(#""\x""#.utf8)),
            ("escaped apostrophe", Array(#""\'""#.utf8)),
            ("short unicode escape", Array(#""\u12G4""#.utf8)),
            ("lone high surrogate", Array(#""\ud800""#.utf8)),
            ("lone high surrogate then text", Array(#""\ud800abc""#.utf8)),
            ("high surrogate then non-surrogate", Array(#""\ud800\u0041""#.utf8)),
            ("lone low surrogate", Array(#""\udc00""#.utf8)),
            ("raw tab in string", Array("\"a\tb\"".utf8)),
            ("raw newline in string", Array("\"a\nb\"".utf8)),
            ("raw NUL in string", [0x22, 0x00, 0x22]),
            ("invalid UTF-8 byte", [0x22, 0xFF, 0x22]),
            ("overlong UTF-8", [0x22, 0xC0, 0x80, 0x22]),
            ("UTF-8 surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22]),
            ("above U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]),
            ("cut UTF-8 sequence", [0x22, 0xE4, 0xB8, 0x22]),
            ("cut UTF-8 before an escape", [0x22, 0xC3, 0x5C, 0x6E, 0x22]),
            ("UTF-8 outside a string", [0x5B, 0xC3, 0xA9, 0x5D]),
            ("leading zero", Array("01".utf8)),
            ("negative leading zero", Array("-01".utf8)),
            ("zero zero", Array("[00]".utf8)),
            ("plus sign", Array("+1".utf8)),
            ("minus alone", Array("-".utf8)),
            ("point without digits", Array("1.".utf8)),
            ("point first", Array(".5".utf8)),
            ("exponent without digits", Array("1e".utf8)),
            ("exponent sign only", Array("1e+".utf8)),
            ("hex", Array("0x10".utf8)),
            ("NaN", Array("NaN".utf8)),
            ("Infinity", Array("[Infinity]".utf8)),
            ("negative infinity", Array("-Infinity".utf8)),
            ("out of range", Array("1e400".utf8)),
            ("trailing garbage", Array(#"{"a":1}x"#.utf8)),
            ("two values", Array("{} {}".utf8)),
            ("trailing NUL", Array("{}".utf8) + [0]),
            ("comment", Array("[1/*x*/]".utf8)),
            ("capitalised literal", Array("True".utf8)),
            ("literal with suffix", Array("nulls".utf8)),
            ("form feed as whitespace", Array("\u{C}1".utf8)),
            ("two byte order marks", [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, 0x31]),
            ("too deep", Array(String(repeating: "[", count: 65).utf8) + Array(String(repeating: "]", count: 65).utf8)),
            ("hostile depth", Array(String(repeating: "[", count: 200_000).utf8)),
            ("hostile object depth", Array(String(repeating: #"{"a":"#, count: 100_000).utf8)),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try CaptureJSONParser.parse(bytes), name)
        }
    }

    func testErrorsGiveTheOffsetAndReason() {
        let cases: [(String, CaptureJSONParseError)] = [
            (#"{"a":1,}"#, CaptureJSONParseError(offset: 7, reason: .trailingComma)),
            (#"{"a":"\x"}"#, CaptureJSONParseError(offset: 6, reason: .invalidEscape(UInt8(ascii: "x")))),
            (#"{"a":"\ud800"}"#, CaptureJSONParseError(offset: 6, reason: .loneSurrogate)),
            (#"{"a":01}"#, CaptureJSONParseError(offset: 5, reason: .leadingZero)),
            (#"{"a":1} x"#, CaptureJSONParseError(offset: 8, reason: .trailingData(UInt8(ascii: "x")))),
            (#"{"a":1"#, CaptureJSONParseError(offset: 6, reason: .unexpectedEnd)),
            (#"{'a':1}"#, CaptureJSONParseError(offset: 1, reason: .expectedKey(UInt8(ascii: "'")))),
            (#"[1 2]"#, CaptureJSONParseError(offset: 3, reason: .expectedCommaOrClose(found: UInt8(ascii: "2"), close: UInt8(ascii: "]")))),
            ("[NaN]", CaptureJSONParseError(offset: 1, reason: .invalidValueStart(UInt8(ascii: "N")))),
            ("[1e400]", CaptureJSONParseError(offset: 1, reason: .numberOutOfRange)),
            ("\"a\tb\"", CaptureJSONParseError(offset: 2, reason: .controlCharacterInString(0x09))),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try CaptureJSONParser.parse(Array(text.utf8)), text) { error in
                XCTAssertEqual(error as? CaptureJSONParseError, expected, text)
            }
        }
        XCTAssertThrowsError(try CaptureJSONParser.parse([0x5B, 0x22, 0x61, 0xC3, 0x28, 0x22, 0x5D])) { error in
            XCTAssertEqual(error as? CaptureJSONParseError, CaptureJSONParseError(offset: 4, reason: .invalidUTF8))
        }
        XCTAssertEqual("\(CaptureJSONParseError(offset: 6, reason: .invalidEscape(UInt8(ascii: "x"))))",
                       #"byte 6: invalid escape "\x" in a string"#)
    }

    func testDepthLimit() throws {
        let limit = CaptureJSONParser.defaultMaxDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        XCTAssertNoThrow(try CaptureJSONParser.parse(Array(deepest.utf8)))
        let over = "[" + deepest + "]"
        XCTAssertThrowsError(try CaptureJSONParser.parse(Array(over.utf8))) { error in
            XCTAssertEqual(error as? CaptureJSONParseError, CaptureJSONParseError(offset: limit, reason: .tooDeep(limit: limit)))
        }
        XCTAssertThrowsError(try CaptureJSONParser.parse(Array(#"{"a":{"b":[1]}}"#.utf8), maxDepth: 2))
    }

    /// JSONSerialization (swift-corelibs-foundation) accepts trailing commas; this
    /// parser does not, so any other rejection must be Foundation's too.
    func testRejectionsAgreeWithJSONSerializationExceptTrailingCommas() {
        let texts = [#"{"a":1}x"#, "[01]", #"["\ud800"]"#, #"["\x"]"#, "[1e400]", "[NaN]", "{'a':1}", "[1 2]", "\"\t\""]
        for text in texts {
            XCTAssertThrowsError(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]), text)
            XCTAssertThrowsError(try CaptureJSONParser.parse(Array(text.utf8)), text)
        }
    }

    // MARK: - Accessors and the reader

    func testObjectAccessors() throws {
        let text = #"{"s":"x","i":7,"d":1.0,"f":1.5,"n":-3,"b":true,"one":1,"z":null,"o":{"k":"v"},"a":[1,"x"],"s":"last"}"#
        let json = try XCTUnwrap(CaptureJSONObject(CaptureJSONParser.parse(Array(text.utf8))))
        XCTAssertEqual(json.string("s"), "last")  // a duplicated key reads as its last value
        XCTAssertEqual(json.int64("i"), 7)
        XCTAssertEqual(json.int64("d"), 1)
        XCTAssertNil(json.int64("f"))
        XCTAssertEqual(json.int64("n"), -3)
        XCTAssertNil(json.uint64("n"))
        XCTAssertEqual(json.uint64("i"), 7)
        XCTAssertEqual(json.bool("b"), true)
        XCTAssertNil(json.bool("one"))
        XCTAssertNil(json.int64("b"))
        XCTAssertNil(json.string("i"))
        XCTAssertTrue(json.has("s"))
        XCTAssertFalse(json.has("z"))
        XCTAssertFalse(json.has("missing"))
        XCTAssertEqual(json.object("o")?.string("k"), "v")
        XCTAssertNil(json.object("a"))
        XCTAssertEqual(json.array("a"), [.integer(1), .string("x")])
        XCTAssertNil(CaptureJSONObject(.array([])))
    }

    func testCorruptLinesKeepTheirWarnings() throws {
        let root = try CaptureTestSupport.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try CaptureTestSupport.makeSyntheticSession(root: root).0
        let path = directory + "/events.jsonl"
        var lines = try CaptureTestSupport.lines(of: path)
        lines.insert(#"{"t":1,"type":"connectionOpened","conn":99,}"#, at: 1)   // trailing comma
        lines.insert(#"["t",1]"#, at: 2)                                          // JSON, not an object
        lines.insert(#"{"t":1,"type":"flowStarted","flow":1,"conn":1} tail"#, at: 3)
        lines.insert(#"{"type":"body"}"#, at: 4)
        try CaptureTestSupport.writeLines(lines, to: path)
        let session = try CapturedSession.open(directory: directory)
        XCTAssertEqual(session.warnings, [
            "events.jsonl:2: not a JSON object (corrupt line); line skipped",
            "events.jsonl:3: not a JSON object (corrupt line); line skipped",
            "events.jsonl:4: not a JSON object (corrupt line); line skipped",
            "events.jsonl:5: no timestamp \"t\"; line skipped",
        ])
        XCTAssertEqual(session.flows.count, 4)
        XCTAssertNil(session.connections.first { $0.id.rawValue == 99 })
    }

    func testSessionJSONProxyValuesThatAreNotStrings() throws {
        let root = try CaptureTestSupport.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = try CaptureTestSupport.makeSyntheticSession(root: root).0
        let path = directory + "/session.json"
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: #""proxy":\{[^}]*\}"#, with: #""proxy":{"port":8080,"ratio":0.5,"tls":true,"none":null,"list":[1,"a"]}"#,
                                  options: .regularExpression)
        XCTAssertTrue(text.contains(#""port":8080"#), text)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let metadata = try SessionMetadata.read(directory: directory)
        XCTAssertEqual(metadata.proxy["port"], "8080")
        XCTAssertEqual(metadata.proxy["ratio"], "0.5")
        XCTAssertEqual(metadata.proxy["tls"], "true")
        XCTAssertEqual(metadata.proxy["none"], "null")
        XCTAssertEqual(metadata.proxy["list"], #"[1,"a"]"#)

        try (String(text.dropLast(2)) + ",}\n").write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try SessionMetadata.read(directory: directory)) { error in
            guard case .corrupt(_, 1, let reason)? = error as? CaptureError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.hasPrefix("not a JSON object (byte "), reason)
            XCTAssertTrue(reason.contains("trailing comma"), reason)
        }
    }

    // MARK: - Helpers

    /// True when Foundation's value is the same JSON value (doubles within 1e-12,
    /// as Foundation turns long numbers into NSDecimalNumber; U+FEFF aside).
    static func matches(_ value: CaptureJSONValue, _ foundation: Any) -> Bool {
        switch value {
        case .null:
            return foundation is NSNull
        case .bool(let bool):
            guard let number = foundation as? NSNumber, String(cString: number.objCType) == "c" else { return false }
            return number.boolValue == bool
        case .integer(let integer):
            guard let number = foundation as? NSNumber, String(cString: number.objCType) != "c" else { return false }
            return number.int64Value == integer || (number.decimalValue == Decimal(integer))
        case .double(let double):
            guard let number = foundation as? NSNumber, String(cString: number.objCType) != "c" else { return false }
            let other = number.doubleValue
            return other == double || abs(other - double) <= 1e-12 * max(abs(other), abs(double))
        case .string(let string):
            guard let other = foundation as? String else { return false }
            return withoutBOM(other).unicodeScalars.elementsEqual(withoutBOM(string).unicodeScalars)
        case .array(let elements):
            guard let others = foundation as? [Any], others.count == elements.count else { return false }
            return zip(elements, others).allSatisfy { matches($0, $1) }
        case .object(let members):
            guard let others = foundation as? [String: Any], others.count == members.count else { return false }
            let byKey = Dictionary(others.map { (withoutBOM($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
            return members.allSatisfy { member in byKey[withoutBOM(member.key)].map { matches(member.value, $0) } ?? false }
        }
    }

    /// Foundation drops a raw U+FEFF that starts a string or follows an escape (it
    /// decodes each run as if it began a file); the parser keeps it, as RFC 8259 says.
    static func withoutBOM(_ string: String) -> String {
        String(String.UnicodeScalarView(string.unicodeScalars.filter { $0 != "\u{FEFF}" }))
    }

    /// Random JSON values with the text that encodes them: random whitespace, every
    /// escape form (short, \u, surrogate pairs), raw non-ASCII, numbers at the edges.
    /// Deterministic (SplitMix64) so a failure repeats.
    struct Generator {
        private var state: UInt64

        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

        mutating func whitespace() -> String {
            guard below(3) == 0 else { return "" }
            return String((0..<(1 + below(3))).map { _ in [" ", "\t", "\n", "\r"][below(4)] })
        }

        mutating func value(depth: Int) -> (CaptureJSONValue, String) {
            let kind = depth > 0 ? below(9) : below(6)
            switch kind {
            case 0: return (.null, "null")
            case 1: let bool = below(2) == 0; return (.bool(bool), bool ? "true" : "false")
            case 2: return integer()
            case 3: return double()
            case 4, 5: let (string, text) = string(); return (.string(string), text)
            case 6, 7: return object(depth: depth)
            default: return array(depth: depth)
            }
        }

        mutating func integer() -> (CaptureJSONValue, String) {
            let edges: [Int64] = [0, 1, -1, 9, 10, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1, 1_795_718_130_255_444]
            let value = below(2) == 0 ? edges[below(edges.count)] : Int64(bitPattern: next()) >> Int64(below(63))
            return (.integer(value), String(value))
        }

        mutating func double() -> (CaptureJSONValue, String) {
            switch below(4) {
            case 0:
                // Beyond Int64: read as a double.
                let text = (below(2) == 0 ? "9223372036854775808" : "-9223372036854775809")
                    + String(repeating: "0", count: below(4))
                return (.double(Double(text)!), text)
            case 1:
                let mantissa = below(1_000_000), exponent = below(40) - 20
                let text = "\(mantissa)\(["e", "E"][below(2)])\(["", "+", "-"][below(3)])\(abs(exponent))"
                return (.double(Double(text)!), text)
            default:
                var value = Double(bitPattern: next())
                while !value.isFinite { value = Double(bitPattern: next()) }
                if below(2) == 0 { value = Double(Int64(bitPattern: next()) >> 40) / 1024 }
                // `description` is valid JSON for finite doubles ("1.0", "1e-05", "-0.0").
                return (.double(value), value.description)
            }
        }

        mutating func string() -> (String, String) {
            let pools: [[Unicode.Scalar]] = [
                Array("abcXYZ 019:/.-_~".unicodeScalars), ["\"", "\\", "/"], (0..<0x20).map { Unicode.Scalar(UInt8($0)) },
                ["é", "ß", "\u{7F}", "\u{80}", "\u{FF}"], ["中", "\u{2028}", "\u{FEFF}", "\u{FFFD}", "\u{D7FF}", "\u{E000}"],
                ["😀", "\u{10000}", "\u{10FFFF}", "𝄞"],
            ]
            var string = ""
            var text = "\""
            for _ in 0..<below(12) {
                let pool = pools[below(pools.count)]
                let scalar = pool[below(pool.count)]
                string.unicodeScalars.append(scalar)
                text += encode(scalar)
            }
            return (string, text + "\"")
        }

        /// `scalar` as it may appear inside a JSON string: raw when allowed, or escaped.
        mutating func encode(_ scalar: Unicode.Scalar) -> String {
            let short: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "/": "\\/", "\u{8}": "\\b", "\u{C}": "\\f",
                                                   "\n": "\\n", "\r": "\\r", "\t": "\\t"]
            let mustEscape = scalar.value < 0x20 || scalar == "\"" || scalar == "\\"
            switch mustEscape ? 1 + below(2) : below(3) {
            case 0: return String(scalar)
            case 1 where short[scalar] != nil: return short[scalar]!
            default:
                guard scalar.value >= 0x10000 else { return unicodeEscape(scalar.value) }
                let offset = scalar.value - 0x10000
                return unicodeEscape(0xD800 + (offset >> 10)) + unicodeEscape(0xDC00 + (offset & 0x3FF))
            }
        }

        /// `\uXXXX` with hex digits in either case.
        mutating func unicodeEscape(_ unit: UInt32) -> String {
            let digits = String(unit, radix: 16, uppercase: below(2) == 0)
            return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        }

        mutating func object(depth: Int) -> (CaptureJSONValue, String) {
            var members: [(key: String, value: CaptureJSONValue)] = []
            var parts: [String] = []
            var keys = Set<String>()
            for _ in 0..<below(6) {
                let (key, keyText) = string()
                // Distinct keys, so Foundation's dictionary keeps them all.
                guard keys.insert(key).inserted else { continue }
                let (value, valueText) = value(depth: depth - 1)
                members.append((key, value))
                parts.append(whitespace() + keyText + whitespace() + ":" + whitespace() + valueText + whitespace())
            }
            return (.object(members), "{" + whitespace() + parts.joined(separator: ",") + "}")
        }

        mutating func array(depth: Int) -> (CaptureJSONValue, String) {
            var elements: [CaptureJSONValue] = []
            var parts: [String] = []
            for _ in 0..<below(6) {
                let (value, text) = value(depth: depth - 1)
                elements.append(value)
                parts.append(whitespace() + text + whitespace())
            }
            return (.array(elements), "[" + whitespace() + parts.joined(separator: ",") + "]")
        }
    }
}
