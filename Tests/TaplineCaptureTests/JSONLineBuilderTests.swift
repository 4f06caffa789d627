import XCTest
@testable import TaplineCapture

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
                              999_999_999_999_999, 10_000_000_000_000_000, 10_000_000_000_000_000]
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
        var builder = JSONLineBuilder(capacity: 8)
        builder.beginArray()
        for (value, _) in cases {
            Array("x-name".utf8).withUnsafeBufferPointer { name in
                value.withUnsafeBufferPointer { builder.pair(bytes: name, $0) }
            }
        }
        builder.endArray()
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
        let taken = builder.takeStorage(replacement: JSONByteStorage(capacity: 8))
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

                    var pairs = JSONLineBuilder(capacity: 4)
                    Array(text.utf8).withUnsafeBufferPointer { bytes in pairs.pair(bytes: bytes, bytes) }
                    let pair = try JSONSerialization.jsonObject(with: Data(pairs.bytes)) as? [String]
                    XCTAssertEqual(pair, [text, text], label)
                }
            }
        }
    }
}
