import XCTest
@testable import TaplineCapture
import TaplineFlow
import TaplineWire

/// The hand-rolled JSON writer agrees with Foundation's parser on numbers and strings.
final class JSONLineBuilderTests: XCTestCase {
    func testIntegersRoundTripThroughJSONParser() throws {
        let values: [Int64] = [0, 7, 10, 99, 100, 1_764_172_800_123_456, Int64.max, -1, -10, Int64.min]
        var builder = JSONLineBuilder()
        builder.beginArray()
        for value in values {
            builder.element()
            builder.integer(value)
        }
        builder.element()
        builder.integer(UInt64.max)
        builder.endArray()
        let text = String(decoding: builder.bytes, as: UTF8.self)
        XCTAssertEqual(text, "[" + values.map(String.init).joined(separator: ",") + ",\(UInt64.max)]")
    }

    /// Every digit count, both sides of each power of ten, random 16-digit
    /// timestamps and random values below 10^8 (each their own fast path) print as
    /// Swift prints them.
    func testIntegersOfEveryLengthMatchSwiftsDecimalText() {
        var values: [UInt64] = [0, UInt64.max]
        var power: UInt64 = 1
        for _ in 0..<19 {
            power *= 10
            values += [power - 1, power, power + 1]
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            values.append(UInt64.random(in: 1_000_000_000_000_000..<10_000_000_000_000_000, using: &generator))
            values.append(UInt64.random(in: 0..<100_000_000, using: &generator))
        }
        for value in values {
            var builder = JSONLineBuilder(capacity: 64)
            builder.integer(value)
            XCTAssertEqual(String(decoding: builder.bytes, as: UTF8.self), String(value))
            var signed = JSONLineBuilder(capacity: 64)
            signed.integer(-Int64(truncatingIfNeeded: value & 0x7FFF_FFFF_FFFF_FFFF))
            XCTAssertEqual(String(decoding: signed.bytes, as: UTF8.self),
                           String(-Int64(truncatingIfNeeded: value & 0x7FFF_FFFF_FFFF_FFFF)))
        }
    }

    /// The one-step start of an event line writes what the separate writes did,
    /// including from a full buffer and for times that are not 16 digits.
    func testEventLineStartMatchesMemberByMemberWrites() {
        for time: Int64 in [1_795_730_186_074_670, 0, 7, -42, Int64.max] {
            var fused = JSONLineBuilder(capacity: 1)
            fused.beginEvent("requestHead", time: time)
            fused.member("flow", UInt64(3))
            fused.endObject()
            var stepwise = JSONLineBuilder(capacity: 1)
            stepwise.beginObject()
            stepwise.member("t", time)
            stepwise.member("type", constant: "requestHead")
            stepwise.member("flow", UInt64(3))
            stepwise.endObject()
            XCTAssertEqual(String(decoding: fused.bytes, as: UTF8.self),
                           "{\"t\":\(time),\"type\":\"requestHead\",\"flow\":3}")
            XCTAssertEqual(fused.bytes, stepwise.bytes)
        }
    }

    /// Times written again by one builder (lines of one callback share a clock
    /// reading) come out the same as fresh ones, whatever was written in between.
    func testRepeatedTimesAreWrittenLikeNewOnes() {
        let times: [Int64] = [1_795_730_186_074_670, 1_795_730_186_074_670, 1_795_730_186_074_671, 5,
                              1_795_730_186_074_671, -1_795_730_186_074_671, 1_795_730_186_074_671,
                              999_999_999_999_999, 10_000_000_000_000_000, 10_000_000_000_000_000,
                              // the same second (its digits reused), its last and first µs, the next second
                              1_795_730_186_000_000, 1_795_730_186_999_999, 1_795_730_187_000_000,
                              1_795_730_187_000_001, 1_795_730_186_000_001, -1, 0, -1_000_000,
                              1_000_000_000_000_000, 1_000_000_000_999_999, 9_999_999_999_999_999]
        var builder = JSONLineBuilder(capacity: 1)
        for (index, time) in times.enumerated() {
            builder.beginEvent("flowEnded", time: time)
            builder.key("timings")
            builder.beginObject()
            builder.member("requestStart", time: time)
            builder.member("done", time: times[(index + 1) % times.count])
            builder.endObject()
            builder.endEvent()
        }
        let expected = times.enumerated().map { index, time in
            "{\"t\":\(time),\"type\":\"flowEnded\",\"timings\":{\"requestStart\":\(time),\"done\":\(times[(index + 1) % times.count])}}\n"
        }.joined()
        XCTAssertEqual(String(decoding: builder.bytes, as: UTF8.self), expected)
    }

    /// The first time a builder writes is written right whatever it is, including the
    /// values its caches start with (10^15 µs, and a time in that second).
    func testFirstTimeWrittenIsRight() {
        for time: Int64 in [1_000_000_000_000_000, 1_000_000_000_123_456, 1_000_000_001_000_000, -1, 0,
                            1_795_730_186_074_670, 999_999_999_999_999, Int64.min, Int64.max] {
            var builder = JSONLineBuilder(capacity: 1)
            builder.beginEvent("body", time: time)
            XCTAssertEqual(String(decoding: builder.bytes, as: UTF8.self), "{\"t\":\(time),\"type\":\"body\"", "\(time)")
        }
    }

    /// A flow's line start in one step writes what `beginEvent` and a `flow` member do.
    func testFlowEventStartMatchesEventStartAndFlowMember() {
        for flow: UInt64 in [0, 9, 10, 12_345, 99_999_999, 100_000_000, UInt64.max] {
            for time: Int64 in [1_795_730_186_074_670, 1_795_730_186_074_671, 1_795_730_187_000_000, -5] {
                var fused = JSONLineBuilder(capacity: 1)
                fused.beginFlowEvent("responseEnd", time: time, flow: flow)
                fused.member("bodyBytes", UInt64(7))
                var stepwise = JSONLineBuilder(capacity: 1)
                stepwise.beginEvent("responseEnd", time: time)
                stepwise.member("flow", flow)
                stepwise.member("bodyBytes", UInt64(7))
                XCTAssertEqual(String(decoding: fused.bytes, as: UTF8.self),
                               "{\"t\":\(time),\"type\":\"responseEnd\",\"flow\":\(flow),\"bodyBytes\":7")
                XCTAssertEqual(fused.bytes, stepwise.bytes)
            }
        }
    }

    /// A flow's kind, written as a constant, is its raw value as a string member writes it.
    func testEveryFlowKindIsWrittenAsItsRawValue() {
        for kind in FlowKind.allCases {
            var constant = JSONLineBuilder(), string = JSONLineBuilder()
            constant.beginObject(); constant.member("kind", kind: kind); constant.endObject()
            string.beginObject(); string.member("kind", kind.rawValue); string.endObject()
            XCTAssertEqual(constant.bytes, string.bytes, "\(kind)")
            XCTAssertEqual(constant.bytes, Array("{\"kind\":\"\(kind.rawValue)\"}".utf8), "\(kind)")
        }
    }

    func testStringsAreEscaped() throws {
        var builder = JSONLineBuilder()
        builder.string("a\"b\\c\n\u{1}é")
        let parsed = try JSONSerialization.jsonObject(with: Data(builder.bytes), options: [.fragmentsAllowed])
        XCTAssertEqual(parsed as? String, "a\"b\\c\n\u{1}é")
    }

    /// Header fields are written from their bytes as received: clean text in one
    /// piece, escapes where needed, UTF-8 as it is, and a sequence that is not
    /// UTF-8 as U+FFFD, so every line stays valid JSON.
    func testHeaderPairsFromBytesStayValidJSON() throws {
        let cases: [([UInt8], String)] = [
            (Array("text/html; charset=utf-8".utf8), "text/html; charset=utf-8"),
            (Array("a\"b\\c\td".utf8), "a\"b\\c\td"),
            (Array("café ünïcödé 日本".utf8), "café ünïcödé 日本"),
            ([0x63, 0x61, 0x66, 0xE9], "caf\u{FFFD}"),
            ([0xFF, 0x22, 0xC3], "\u{FFFD}\"\u{FFFD}"),
            ([0xE9] + Array(" longer than eight bytes ".utf8) + [0x01], "\u{FFFD} longer than eight bytes \u{1}"),
            ([], ""),
        ]
        var headers = HTTPHeaders()
        for (value, _) in cases {
            Array("x-name".utf8).withUnsafeBufferPointer { name in
                value.withUnsafeBufferPointer { headers.add(name: name, value: $0) }
            }
        }
        var builder = JSONLineBuilder(capacity: 8)
        builder.headers(headers)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(builder.bytes)) as? [[String]])
        XCTAssertEqual(parsed.map { $0[1] }, cases.map(\.1))
        XCTAssertEqual(Set(parsed.map { $0[0] }), ["x-name"])
    }

    /// A builder started tiny grows through many appends of every kind, and a
    /// taken storage keeps its bytes while the builder goes on in a new one.
    func testGrowsPastItsCapacityAndHandsOverStorage() throws {
        var builder = JSONLineBuilder(capacity: 1)
        var expected: [[String: Any]] = []
        for index in 0..<300 {
            let text = String(repeating: "ab\"c\\\u{1}é\n", count: index % 17) + "\(index)"
            builder.beginObject()
            builder.key("i"); builder.integer(index)
            builder.key("s"); builder.string(text)
            builder.key("ok"); builder.bool(index % 2 == 0)
            builder.endObject()
            builder.newline()
            expected.append(["i": index, "s": text, "ok": index % 2 == 0])
        }
        let taken = builder.takeStorage(replacement: CaptureByteStorage(capacity: 8))
        builder.beginArray(); builder.element(); builder.null(); builder.endArray()
        XCTAssertEqual(String(decoding: builder.bytes, as: UTF8.self), "[null]")
        let lines = Data(taken.bytes).split(separator: UInt8(ascii: "\n"))
        XCTAssertEqual(lines.count, expected.count)
        for (line, want) in zip(lines, expected) {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            XCTAssertEqual(object["i"] as? Int, want["i"] as? Int)
            XCTAssertEqual(object["s"] as? String, want["s"] as? String)
            XCTAssertEqual(object["ok"] as? Bool, want["ok"] as? Bool)
        }
    }

    /// Every character that needs escaping (or, in header bytes, checking as UTF-8),
    /// at every position of strings of every length around the eight-byte words the
    /// check copies as it goes, reads back unchanged: a copy begun before the special
    /// character was found is overwritten.
    func testEscapesAtEveryOffsetOfLongStrings() throws {
        let specials: [Character] = ["\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "é", "😀"]
        for special in specials {
            for length in [1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 33] {
                for position in 0..<length {
                    var characters = Array(repeating: Character("a"), count: length)
                    characters[position] = special
                    let text = String(characters)
                    let label = "special \(special.unicodeScalars.first!.value) at \(position) of \(length)"
                    var builder = JSONLineBuilder(capacity: 4)
                    builder.string(text)
                    let parsed = try JSONSerialization.jsonObject(with: Data(builder.bytes), options: [.fragmentsAllowed])
                    XCTAssertEqual(parsed as? String, text, label)

                    let pair = try JSONSerialization.jsonObject(with: Data(Self.pairBytes(Array(text.utf8)))) as? [String]
                    XCTAssertEqual(pair, [text, text], label)
                }
            }
        }
    }

    // MARK: Byte-exact escaping (every byte, every split between the fast and slow paths)

    /// What a string must be written as: the builder's escapes (`\"`, `\\`, `\n`,
    /// `\r`, `\t`, `\u00xx` for other bytes below 0x20), everything else as it is,
    /// after text that is not UTF-8 became U+FFFD per invalid sequence.
    static func expectedQuoted(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [0x22]
        for byte in String(decoding: bytes, as: UTF8.self).utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return out
    }

    /// A header list the same as one written shortly before is written by copying that
    /// JSON (`CaptureEncodedHeaderListMemo`): in one builder, lists cycling through more
    /// than it keeps, lists whose field bytes run alike but split differently into names
    /// and values, lists with bytes that need escaping or repair, short and overlong ones,
    /// each come out as a fresh builder writes them alone.
    func testHeaderListsWrittenAgainAreWrittenAsAlone() {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: CaptureEncodedHeaderListMemo.largestList)
        let lists: [[([UInt8], [UInt8])]] = [
            [(Array("Host".utf8), Array("a.example:8080".utf8)), (Array("Accept".utf8), Array("*/*".utf8)),
             (Array("User-Agent".utf8), Array("curl/8.0".utf8))],
            [(Array("Hos".utf8), Array("ta.example:8080".utf8)), (Array("Accept".utf8), Array("*/*".utf8)),
             (Array("User-Agent".utf8), Array("curl/8.0".utf8))],
            [(Array("Host".utf8), Array("b.example:8080".utf8)), (Array("Accept".utf8), Array("*/*".utf8)),
             (Array("User-Agent".utf8), Array("curl/8.0".utf8))],
            [(Array("Host".utf8), Array("a.example:8080".utf8)), (Array("Accept".utf8), [0x22, 0x5C, 0x0A, 0xFF, 0xC3]),
             (Array("User-Agent".utf8), Array("curl/8.0".utf8))],
            [(Array("A".utf8), Array("b".utf8))],
            [(Array("Cookie".utf8), long)],
            [(Array("Server".utf8), Array("nginx".utf8)), (Array("Date".utf8), Array("Sun, 06 Dec 2026 16:30:57 GMT".utf8))],
            [(Array("Server".utf8), Array("nginx".utf8)), (Array("Date".utf8), Array("Sun, 06 Dec 2026 16:30:58 GMT".utf8))],
        ].map { $0.map { ($0.0, $0.1) } }
        func headers(_ fields: [([UInt8], [UInt8])]) -> HTTPHeaders {
            var headers = HTTPHeaders()
            for (name, value) in fields {
                name.withUnsafeBufferPointer { name in value.withUnsafeBufferPointer { headers.add(name: name, value: $0) } }
            }
            return headers
        }
        func alone(_ fields: [([UInt8], [UInt8])]) -> [UInt8] {
            var builder = JSONLineBuilder(capacity: 4)
            builder.headers(headers(fields))
            return builder.bytes
        }
        var builder = JSONLineBuilder(capacity: 4)
        var written: [UInt8] = []
        var expected: [UInt8] = []
        for round in 0..<5 {
            for (index, fields) in lists.enumerated() where (index * 7 + round) % 3 != 1 || round == 0 {
                builder.headers(headers(fields))
                expected += alone(fields)
            }
            // A batch handed over: the lists are kept for the next one.
            let taken = builder.takeStorage(replacement: CaptureByteStorage(capacity: 4))
            written += UnsafeBufferPointer(start: taken.base, count: taken.count)
        }
        XCTAssertEqual(written, expected)
        XCTAssertNotEqual(alone(lists[0]), alone(lists[1]))
    }

    /// The bytes `headerList` writes for a field with `value` as both name and value
    /// (the field's `[…]`, without the list's brackets).
    private static func pairBytes(_ value: [UInt8]) -> [UInt8] {
        var headers = HTTPHeaders()
        value.withUnsafeBufferPointer { headers.add(name: $0, value: $0) }
        var builder = JSONLineBuilder(capacity: 4)
        builder.headers(headers)
        return Array(builder.bytes.dropFirst().dropLast())
    }

    private static func expectedPair(_ value: [UInt8]) -> [UInt8] {
        let quoted = expectedQuoted(value)
        return [UInt8(ascii: "[")] + quoted + [UInt8(ascii: ",")] + quoted + [UInt8(ascii: "]")]
    }

    /// Every byte 0x00-0xFF, alone and inside ASCII text at each offset around the
    /// eight-byte words of the fast path (before, inside, straddling and after a
    /// word, and in the overlapping last word), written as a header field.
    func testEveryByteInHeaderFieldsIsWrittenExactly() {
        for byte in UInt8.min...UInt8.max {
            for prefix in [0, 1, 3, 7, 8, 9, 15, 16] {
                for suffix in [0, 1, 6, 8, 11] {
                    let value = Array(repeating: UInt8(ascii: "a"), count: prefix) + [byte]
                        + Array(repeating: UInt8(ascii: "z"), count: suffix)
                    XCTAssertEqual(Self.pairBytes(value), Self.expectedPair(value),
                                   "byte \(byte) after \(prefix), before \(suffix)")
                }
            }
        }
    }

    /// A header list is checked as one run of bytes for the next byte that needs
    /// more than a copy: lists of several fields (short and long names and values,
    /// empty ones, lists under eight bytes in all) with such a byte (an escape, a
    /// non-ASCII character, invalid UTF-8, two of them) at every offset of the whole
    /// list, so at every place in a field, at field boundaries and in the list's
    /// overlapping last word, are written exactly; so is the list without it.
    func testSpecialByteAtEveryOffsetOfAHeaderListIsWrittenExactly() {
        let shapes: [[(name: String, value: String)]] = [
            [], [("", "")], [("", ""), ("", "")],
            [("a", "b")],
            [("ab", ""), ("", "cd")],
            [("Host", "127.0.0.1:8080"), ("User-Agent", "curl/8.5.0"), ("Accept", "*/*")],
            [("Server", "nginx/1.22.1"), ("Date", "Sun, 06 Dec 2026 09:52:01 GMT"),
             ("Content-Type", "application/octet-stream"), ("Content-Length", "1024"), ("ETag", "x"),
             ("X-Long", String(repeating: "0123456789", count: 4)), ("X-Empty", "")],
        ]
        let specials: [[UInt8]] = [[0x22], [0x5C], [0x0A], [0x00], [0x7F], [0xC3, 0xA9], [0xFF], [0xE2, 0x82], [0x22, 0x80]]
        for shape in shapes {
            let plain = shape.map { (Array($0.name.utf8), Array($0.value.utf8)) }
            XCTAssertEqual(Self.listBytes(plain), Self.expectedList(plain), "\(shape) as it is")
            let total = plain.reduce(0) { $0 + $1.0.count + $1.1.count }
            for special in specials {
                for offset in 0..<total {
                    // Replaces the bytes from `offset` on (as many as `special` has, within the list).
                    var fields = plain
                    var position = 0
                    for index in fields.indices {
                        for part in 0..<2 {
                            var bytes = part == 0 ? fields[index].0 : fields[index].1
                            for at in bytes.indices where position + at >= offset && position + at < offset + special.count {
                                bytes[at] = special[position + at - offset]
                            }
                            position += bytes.count
                            if part == 0 { fields[index].0 = bytes } else { fields[index].1 = bytes }
                        }
                    }
                    XCTAssertEqual(Self.listBytes(fields), Self.expectedList(fields),
                                   "\(special) at \(offset) of \(shape)")
                }
            }
        }
    }

    /// What `headers` writes for `fields`, written by a builder that must grow.
    private static func listBytes(_ fields: [([UInt8], [UInt8])]) -> [UInt8] {
        var headers = HTTPHeaders()
        for (name, value) in fields {
            name.withUnsafeBufferPointer { name in value.withUnsafeBufferPointer { headers.add(name: name, value: $0) } }
        }
        var builder = JSONLineBuilder(capacity: 4)
        builder.headers(headers)
        return builder.bytes
    }

    private static func expectedList(_ fields: [([UInt8], [UInt8])]) -> [UInt8] {
        let pairs = fields.map { [UInt8(ascii: "[")] + expectedQuoted($0.0) + [UInt8(ascii: ",")] + expectedQuoted($0.1)
            + [UInt8(ascii: "]")] }
        return [UInt8(ascii: "[")] + Array(pairs.joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "]")]
    }

    /// Every two-byte sequence (each lead byte with each following byte: valid and
    /// invalid UTF-8 pairs, escapes next to non-ASCII), in a short and a long field.
    func testEveryTwoByteSequenceInHeaderFieldsIsWrittenExactly() {
        for first in UInt8.min...UInt8.max {
            for second in UInt8.min...UInt8.max {
                let short = [first, second]
                XCTAssertEqual(Self.pairBytes(short), Self.expectedPair(short), "\(first) \(second)")
            }
            for second: UInt8 in [0x00, 0x22, 0x5C, 0x41, 0x7F, 0x80, 0xA0, 0xBF, 0xC0, 0xE0, 0xF4, 0xFF] {
                let long = Array("W/\"abcdefgh".utf8) + [first, second] + Array("ijklmnop\"".utf8)
                XCTAssertEqual(Self.pairBytes(long), Self.expectedPair(long), "\(first) \(second) in a long field")
            }
        }
    }

    /// Malformed UTF-8 (overlong forms, surrogates, above U+10FFFF, cut sequences,
    /// stray continuation bytes) becomes U+FFFD per invalid sequence, alone and next
    /// to characters that need escaping; valid multi-byte text passes unchanged.
    func testInvalidUTF8InHeaderFieldsIsRepairedExactly() {
        let sequences: [[UInt8]] = [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xF0, 0x80, 0x80, 0x80],
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0x80], [0xBF, 0x80], [0xFE], [0xFF],
            [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xED, 0x9F, 0xBF],
        ]
        for sequence in sequences {
            for value in [sequence, Array("\"etag\"".utf8) + sequence, sequence + [0x0A] + Array("tail-of-a-field".utf8),
                          Array("0123456789".utf8) + sequence + sequence + [0x5C]] {
                XCTAssertEqual(Self.pairBytes(value), Self.expectedPair(value), "\(value)")
            }
        }
    }

    /// Strings (always valid UTF-8) written with `string` and `member`: every ASCII
    /// character, and non-ASCII ones, at offsets around the word boundaries.
    func testEveryASCIICharacterInStringsIsWrittenExactly() {
        let characters = (0..<0x80).map { Character(Unicode.Scalar(UInt8($0))) } + ["é", "€", "😀", "\u{7FF}", "\u{FFFF}"]
        for character in characters {
            for prefix in [0, 5, 8, 13] {
                let text = String(repeating: "b", count: prefix) + String(character) + "tail"
                var builder = JSONLineBuilder(capacity: 4)
                builder.string(text)
                XCTAssertEqual(builder.bytes, Self.expectedQuoted(Array(text.utf8)), "\(character) after \(prefix)")
                var member = JSONLineBuilder(capacity: 4)
                member.member("k", text)
                XCTAssertEqual(member.bytes, Array("\"k\":".utf8) + Self.expectedQuoted(Array(text.utf8)))
            }
        }
    }
}
