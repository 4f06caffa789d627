import Foundation
import XCTest
@testable import TaplineCapture
import TaplineFlow
import TaplineWire

/// The capture reader's direct line reader (`CaptureFlatLine`) against the general
/// parser (`CaptureJSONParser` + `CaptureJSONObject`): on the repository's capture
/// lines and on lines generated from them (escapes, unicode, whitespace, missing,
/// extra and duplicated members, wrong types, truncations) it either declines a line
/// or answers every accessor the same, and it does take the plain lines.
final class CaptureFlatLineTests: XCTestCase {
    private static let checkout = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// events.jsonl lines as Tapline writes them: docs/capture-format.md's examples,
    /// and the capture-equivalence expectations in compact form, with numeric times
    /// (also `CaptureFlowLinePrefixTests`' corpus).
    static func fixtureLines() throws -> [String] {
        let format = try String(contentsOf: Self.checkout.appendingPathComponent("docs/capture-format.md"), encoding: .utf8)
        var lines = format.split(separator: "\n").filter { $0.hasPrefix(#"{"t":"#) }.map(String.init)
        let expected = try String(contentsOf: Self.checkout.appendingPathComponent("Tests/integration/expected/capture-equivalence.jsonl"),
                                  encoding: .utf8)
        for line in expected.split(separator: "\n") {
            guard let value = try? CaptureJSONParser.parse(Array(line.utf8)) else { continue }
            lines.append(value.jsonText.replacingOccurrences(of: #""TIME""#, with: "1790000000000123"))
        }
        return lines
    }

    /// `body` with the direct reader's view of `line` (nil when it declines): the view
    /// points into the line's bytes, so it is used only inside.
    private func withFlat<Result>(_ line: String, _ body: (CaptureFlatLine?) -> Result) -> Result {
        Array(line.utf8).withUnsafeBufferPointer { body(CaptureFlatLine($0)) }
    }

    private func verdict(_ line: String) -> CaptureLineReaderAgreement.Verdict {
        CaptureLineReaderAgreement.check(Array(line.utf8))
    }

    func testAgreesOnTheRepositorysCaptureLinesAndTakesThePlainOnes() throws {
        let lines = try Self.fixtureLines()
        XCTAssertGreaterThan(lines.count, 400)
        var taken = 0
        var takenTypes = Set<String>()
        for line in lines {
            switch verdict(line) {
            case .agreed:
                taken += 1
                if let type = withFlat(line, { $0?.string(.type) }) {
                    takenTypes.insert(type)
                }
            case .declined: break
            case .disagreed(let difference): XCTFail("\(difference): \(line)")
            }
        }
        XCTAssertGreaterThan(taken, lines.count / 2, "the direct reader should take most lines")
        for type in ["flowStarted", "requestHead", "responseHead", "body", "requestEnd", "responseEnd", "upstreamConnected"] {
            XCTAssertTrue(takenTypes.contains(type), "\(type) lines should be read directly")
        }
    }

    func testAgreesOnLinesGeneratedFromThem() throws {
        let replacements: [(String, String)] = [
            (",", ", "), (":", " : "), ("{", "{ "), ("}", "} "), ("a", #"\u0061"#), ("e", #"\""#), ("GET", "GÉT"),
            ("/", "/\u{1F600}"), (#""flow":"#, #""flow":-"#), (#""status":"#, #""status":"#), ("200", "200.0"),
            ("200", "2e2"), ("200", "0200"), ("200", #""200""#), ("1,", "999999999999999999,"),
            ("1,", "9223372036854775807,"), ("1,", "99999999999999999999,"), ("true", "null"), ("false", "0"),
            (#""GET""#, "1"), (#""http""#, "true"), ("[[", "[[[]],["), (#""],[""#, #"",1],[""#), ("]]", "],]]"),
            ("]]", #","x"]]"#), (#""headers":["#, #""headers":[],"h":["#), (#""headers":"#, #""headers":{},"x":"#),
            (#""flow":"#, #""flow":"x","flow":"#), (#""t":"#, #""t":"x","type":"x","t":"#), ("}", #","flow":7}"#),
            ("}", #","extra":[["a","b"]]}"#), ("}", #","x":{}}"#), ("}", "}\n"), ("{", "\u{FEFF}{"), ("{", "[{"),
        ]
        var checked = 0
        for line in try Self.fixtureLines() {
            var variants: [String] = []
            for (target, replacement) in replacements where line.contains(target) {
                variants.append(line.replacingOccurrences(of: target, with: replacement))
                if let range = line.range(of: target) { variants.append(line.replacingCharacters(in: range, with: replacement)) }
            }
            let bytes = Array(line.utf8)
            for cut in 0..<bytes.count {  // every truncation
                if case .disagreed(let difference) = CaptureLineReaderAgreement.check(Array(bytes[..<cut])) {
                    XCTFail("\(difference): \(line) cut at \(cut)")
                }
            }
            for variant in variants {
                checked += 1
                if case .disagreed(let difference) = verdict(variant) { XCTFail("\(difference): \(variant)") }
            }
        }
        XCTAssertGreaterThan(checked, 2_000)
    }

    func testTakesPlainValuesAndDeclinesTheRest() {
        let plain = #"{"t":0,"type":"requestHead","flow":18,"method":"GET","target":"/a?b=1","version":"HTTP/1.1","headers":[["Host","x"],["Accept","*/*"]],"ended":true,"big":999999999999999999}"#
        XCTAssertEqual(verdict(plain), .agreed)
        let headers = withFlat(plain) { $0?.headers(.headers) }
        XCTAssertEqual(headers, HTTPHeaders([("Host", "x"), ("Accept", "*/*")]))
        XCTAssertEqual(verdict(#"{"t":1,"type":"body","headers":[]}"#), .agreed)
        let escaped = #"{"t":"a\"b\\c\/\n\t","o":{"a":1,"b":"x\"","c":true},"headers":[["E\"Tag","\"x\""],["A","b"]]}"#
        XCTAssertEqual(verdict(escaped), .agreed)
        withFlat(escaped) { line in
            XCTAssertEqual(line?.string(.t), "a\"b\\c/\n\t")
            XCTAssertEqual(line?.headers(.headers), HTTPHeaders([("E\"Tag", "\"x\""), ("A", "b")]))
        }
        for declined in [
            #"{}"#, #"{"t":1 }"#, #"{"t":-1}"#, #"{"t":1.0}"#, #"{"t":01}"#, #"{"t":9223372036854775807}"#, #"{"t":null}"#,
            #"{"t":"\u000a"}"#, #"{"t":"\x"}"#, #"{"t":"é"}"#, #"{"t":{"a":{"b":1}}}"#, #"{"t":{}}"#, #"{"t":[1]}"#, #"{"t":[["a"]]}"#, #"{"t":[["a","b"],]}"#,
            #"{"t":1,}"#, #"{"t":1}x"#, #"{"t":tru}"#, #"{"t":1"#, "", "[1]",
        ] {
            XCTAssertEqual(verdict(declined), .declined, declined)
        }
    }

    /// `headers(_:mayName:)` (what a read without plain heads' fields asks of a head line)
    /// finds a field by name ignoring ASCII case without making the list; an escaped name
    /// may be it; nil where `headers` is nil. The general reader answers exactly.
    func testMayNameFindsAFieldIgnoringCaseAndCountsAnEscapedNameAsMaybe() throws {
        let line = #"{"t":0,"type":"requestHead","headers":[["Host","upgrade"],["UPGRADE","websocket"],["Accept","*/*"]],"trailers":[],"method":"GET"}"#
        let general = try XCTUnwrap(CaptureJSONObject(try CaptureJSONParser.parse(Array(line.utf8))))
        let readers: [(String) -> Bool?] = [{ name in self.withFlat(line) { $0?.headers(.headers, mayName: name) } },
                                            { name in general.headers(.headers, mayName: name) }]
        for reader in readers {
            XCTAssertEqual(reader("upgrade"), true)
            XCTAssertEqual(reader("accept"), true)
            XCTAssertEqual(reader(":protocol"), false)
            XCTAssertEqual(reader("websocket"), false, "values are not names")
        }
        withFlat(line) { flat in
            XCTAssertEqual(flat?.headers(.trailers, mayName: "upgrade"), false)
            XCTAssertNil(flat?.headers(.method, mayName: "upgrade"), "not a list")
            XCTAssertNil(flat?.headers(.target, mayName: "upgrade"), "missing")
            XCTAssertEqual(flat?.hasHeaders(.headers), true)
            XCTAssertEqual(flat?.hasHeaders(.trailers), true)
            XCTAssertEqual(flat?.hasHeaders(.method), false)
            XCTAssertEqual(flat?.hasHeaders(.target), false)
        }
        let escaped = #"{"t":0,"headers":[["X\"Y","websocket"]]}"#
        XCTAssertEqual(withFlat(escaped) { $0?.headers(.headers, mayName: ":protocol") }, true, "an escaped name may be it")
        // A value whose escapes make it look like further fields, and names past a word.
        let lookalike = #"{"t":0,"headers":[["A","x\"],[\"Upgrade\",\"y"],["X-Forwarded-Proto-Longer","https"]]}"#
        let lookalikeGeneral = try XCTUnwrap(CaptureJSONObject(try CaptureJSONParser.parse(Array(lookalike.utf8))))
        for name in ["upgrade", "x-forwarded-proto-longer", "x-forwarded-proto-longe", "a", "b"] {
            let expected = ["x-forwarded-proto-longer", "a"].contains(name)
            XCTAssertEqual(withFlat(lookalike) { $0?.headers(.headers, mayName: name) }, expected, name)
            XCTAssertEqual(lookalikeGeneral.headers(.headers, mayName: name), expected, name)
        }
    }

    /// Strings are scanned a word at a time: a quote, backslash, control or non-ASCII
    /// byte at every position of strings of every length around the word size is found
    /// where it is (the line agrees, and reads back as written, or is declined).
    func testStringsAreReadAlikeWhereverTheirSpecialBytesFall() {
        let specials: [(written: String, decoded: String?)] = [
            (#"\""#, "\""), (#"\\"#, "\\"), (#"\/"#, "/"), (#"\n"#, "\n"), ("\n", nil), ("\u{1F}", nil),
            ("\u{7F}", "\u{7F}"), ("é", nil), (#"\u0041"#, nil), (#"\x"#, nil),
        ]
        var checked = 0
        for length in 0...24 {
            for position in 0...length {
                for special in specials {
                    let text = String(repeating: "a", count: position) + special.written
                        + String(repeating: "b", count: length - position)
                    let line = #"{"t":1,"reason":""# + text + #"","flow":2}"#
                    checked += 1
                    switch verdict(line) {
                    case .disagreed(let difference): XCTFail("\(difference): \(line)")
                    case .declined:
                        XCTAssertNil(special.decoded, "should be read directly: \(line)")
                    case .agreed:
                        let expected = special.decoded.map {
                            String(repeating: "a", count: position) + $0 + String(repeating: "b", count: length - position)
                        }
                        withFlat(line) { flat in
                            XCTAssertEqual(flat?.string(.reason), expected, line)
                            XCTAssertEqual(flat?.uint64(.flow), 2, line)
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 3_000)
    }

    /// A string without escapes is made from its bytes (up to 15 directly, longer through
    /// `String(decoding:)`) or handed out when listed: at every length around 15 bytes, listed
    /// or not, it reads as the parser reads it and as written, and works as a key alike.
    func testStringsWithoutEscapesAreReadAlikeAtEveryLength() {
        let unlisted = (0...40).map { length in String((0..<length).map { Character(UnicodeScalar(UInt8(0x21 + ($0 * 7) % 94))) })
            .replacingOccurrences(of: "\\", with: "!").replacingOccurrences(of: "\"", with: "#") }
        let listed = ["GET", "OK", "HTTP/1.1", "http", "accept-encoding", "Content-Encoding", "Internal Server Error"]
        for text in unlisted + listed + ["127.0.0.1:33291", "/f/0000.bin", "127.0.0.1:8080x", " ", "~\u{7F}"] {
            let line = #"{"t":1,"type":"requestHead","flow":2,"method":"\#(text)","target":"\#(text)"}"#
            guard case .agreed = verdict(line) else {
                XCTFail("should be read directly, as the parser reads it: \(line)")
                continue
            }
            withFlat(line) { flat in
                let method = flat?.string(.method)
                XCTAssertEqual(method, text, line)
                XCTAssertEqual(method.map { Array($0.utf8) }, Array(text.utf8), line)
                XCTAssertEqual(flat?.string(.target), method, line)
                XCTAssertEqual(method.map { [$0: 1][text] }, 1, line)
                XCTAssertEqual(method.map { $0.hashValue }, text.hashValue, line)
            }
        }
    }

    /// A header list is read again for `headers` by looking for quotes and backslashes
    /// only: names and values of every length up to past two words, with an escape at
    /// every place or none, in lists of one to three fields, read as the parser reads them.
    func testHeaderListsAreReadAlikeWhereverTheirEscapesFall() {
        var checked = 0
        for length in 0...18 {
            for position in -1..<length {
                let written = position < 0 ? String(repeating: "v", count: length)
                    : String(repeating: "v", count: position) + #"\""# + String(repeating: "w", count: length - position - 1)
                let fields = [("N" + written, written), ("a", written), (written, "z")]
                for count in 1...3 {
                    let list = fields.prefix(count).map { #"[""# + $0.0 + #"",""# + $0.1 + #""]"# }.joined(separator: ",")
                    let line = #"{"t":1,"type":"requestHead","headers":["# + list + #"],"flow":2}"#
                    checked += 1
                    XCTAssertEqual(verdict(line), .agreed, line)
                    let expected = HTTPHeaders(fields.prefix(count).map {
                        ($0.0.replacingOccurrences(of: #"\""#, with: "\""), $0.1.replacingOccurrences(of: #"\""#, with: "\""))
                    })
                    withFlat(line) { XCTAssertEqual($0?.headers(.headers), expected, line) }
                }
            }
        }
        XCTAssertGreaterThan(checked, 500)
    }

    /// A header list written with the same bytes as one the slots built before is handed
    /// out again (`CaptureHeaderListMemo`): lines cycling through more lists than it keeps,
    /// lists of one length that differ in a byte, one with an escape, short ones and one
    /// longer than it keeps are read in sequence as the parser reads each alone.
    func testRepeatedHeaderListsAreReadAlikeWhenHandedOutAgain() {
        let long = String(repeating: "x", count: CaptureHeaderListMemo.largestList)
        let lists = [
            #"[["Host","a.example:8080"],["Accept","*/*"],["User-Agent","curl/8"]]"#,
            #"[["Host","b.example:8080"],["Accept","*/*"],["User-Agent","curl/8"]]"#,
            #"[["Host","a.example:8080"],["Accept","*/*"],["User-Agent","curl/9"]]"#,
            #"[["Host","a.example:8080"],["Accept","*/\"*"],["User-Agent","curl/8"]]"#,
            #"[["A","b"]]"#,
            #"[["Server","nginx"],["Date","Sun, 06 Dec 2026 16:30:57 GMT"]]"#,
            #"[["Server","nginx"],["Date","Sun, 06 Dec 2026 16:30:58 GMT"]]"#,
            #"[["Cookie",""# + long + #""]]"#,
        ]
        var sequence: [[UInt8]] = []
        for round in 0..<4 {
            for (index, list) in lists.enumerated() where (index + round) % 3 != 0 || round == 0 {
                sequence.append(Array((#"{"t":1,"type":"requestHead","flow":2,"headers":"# + list + "}").utf8))
                sequence.append(Array((#"{"t":1,"type":"responseHead","flow":2,"status":200,"headers":"# + lists[(index + 5) % lists.count] + "}").utf8))
            }
        }
        XCTAssertEqual(CaptureLineReaderAgreement.checkInSequence(sequence), .agreed)

        let slots = CaptureFlatLine.Slots()
        func read(_ list: String) -> HTTPHeaders? {
            Array((#"{"t":1,"type":"requestHead","headers":"# + list + "}").utf8).withUnsafeBufferPointer {
                CaptureFlatLine($0, into: slots)?.headers(.headers)
            }
        }
        let first = read(lists[0])
        XCTAssertEqual(read(lists[2])?.first(name: "User-Agent"), "curl/9")
        XCTAssertEqual(read(lists[0]), first)
        XCTAssertEqual(read(lists[1])?.first(name: "Host"), "b.example:8080")
        XCTAssertEqual(read(lists[3])?.first(name: "Accept"), "*/\"*")
        XCTAssertEqual(read(lists[0])?.first(name: "User-Agent"), "curl/8")
    }

    /// A header list is checked in one pass that stops at quotes, backslashes and bytes
    /// outside printable ASCII: every byte of lists of one to three fields (strings
    /// empty, short, and past a word, one with an escape) replaced by each byte that
    /// matters to it, dropped, doubled, or the list cut there, is read as the parser
    /// reads it or declined, never read otherwise.
    func testDamageAtEveryOffsetOfAHeaderListIsDeclinedOrReadAlike() {
        let lists = [
            #"[["Host","example.com"]]"#,
            #"[["",""],["Accept-Encoding","gzip, deflate, br"]]"#,
            #"[["a","b"],["E\"Tag","\"x\\y\""],["Content-Length","1024"]]"#,
        ]
        let replacements: [String] = ["\"", "\\", "[", "]", ",", " ", "a", "/", "\u{1F}", "\u{7F}", "é", "{"]
        var checked = 0, agreed = 0
        for list in lists {
            let bytes = Array(list.utf8)
            XCTAssertEqual(verdict(#"{"t":1,"headers":"# + list + #","flow":2}"#), .agreed, list)
            for offset in 0..<bytes.count {
                var damaged: [[UInt8]] = replacements.map { bytes[..<offset] + Array($0.utf8) + bytes[(offset + 1)...] }
                damaged.append(Array(bytes[..<offset] + bytes[(offset + 1)...]))
                damaged.append(Array(bytes[...offset] + bytes[offset...]))
                damaged.append(Array(bytes[..<offset]))
                for variant in damaged {
                    let text = String(decoding: variant, as: UTF8.self)
                    for line in [#"{"t":1,"headers":"# + text + #","flow":2}"#, #"{"t":1,"headers":"# + text + "}"] {
                        checked += 1
                        switch verdict(line) {
                        case .disagreed(let difference): XCTFail("\(difference): \(line)")
                        case .declined: break
                        case .agreed:
                            agreed += 1
                            let parsed = try? CaptureJSONParser.parse(Array(line.utf8))
                            withFlat(line) { XCTAssertEqual($0?.headers(.headers), parsed.flatMap(CaptureJSONObject.init)?.headers(.headers), line) }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 2_000)
        XCTAssertGreaterThan(agreed, 100)
    }

    /// Members the assembler never reads are checked like the rest (a value outside the
    /// plain shape declines the line), then skipped; the names it reads are found on
    /// their bytes only (a name with an escape or another spelling is not one of them).
    func testOtherMembersAreCheckedAndSkipped() {
        let line = #"{"zz":{"a":"b"},"t":5,"type":"body","Flow":9,"flo\/w":8,"flows":7,"flow":3,"x":[["a","b"]]}"#
        XCTAssertEqual(verdict(line), .agreed)
        withFlat(line) { flat in
            XCTAssertEqual(flat?.int64(.t), 5)
            XCTAssertEqual(flat?.uint64(.flow), 3)
            XCTAssertEqual(flat?.eventType, .body)
            XCTAssertNil(flat?.headers(.headers))
        }
        for declined in [#"{"t":5,"zz":[1]}"#, #"{"t":5,"zz":null}"#, #"{"t":5,"zz":{"a":{"b":1}}}"#, #"{"t":5,"z\u007a":1}"#] {
            XCTAssertEqual(verdict(declined), .declined, declined)
        }
        // The last of a repeated name counts, whatever its type.
        withFlat(#"{"t":5,"flow":3,"flow":"x","type":"body","type":"flowEnded"}"#) { flat in
            XCTAssertNil(flat?.uint64(.flow))
            XCTAssertEqual(flat?.string(.flow), "x")
            XCTAssertEqual(flat?.eventType, .flowEnded)
        }
    }

    /// A member whose name shares its length and first and last byte with a key (the
    /// key's slot in the name table), or differs from one only inside, is skipped
    /// whatever its value's shape; the key's own member around it is still found.
    func testNearMissNamesAreSkippedWhateverTheirValue() {
        let values = [#""s""#, #""e\"s""#, "7", "true", "false", "[]", #"[["a","b"]]"#, #"{"k":1}"#]
        for value in values {
            let line = #"{"t":5,"tis":"# + value + #","type":"flowEnded","flaw":"# + value + #","flow":3,"#
                + #""firstResponseBytf":"# + value + #","timings":{"donf":1,"done":2,"dane":"# + (value.hasPrefix("[") || value.hasPrefix("{") ? "3" : value)
                + #"},"bytesFromClienT":"# + value + #","bytesFromClient":4,"firstResponseByte":"# + value + "}"
            XCTAssertEqual(verdict(line), .agreed, line)
            withFlat(line) { flat in
                XCTAssertEqual(flat?.int64(.t), 5, line)
                XCTAssertEqual(flat?.uint64(.flow), 3, line)
                XCTAssertEqual(flat?.eventType, .flowEnded, line)
                XCTAssertEqual(flat?.uint64(.bytesFromClient), 4, line)
                XCTAssertNil(flat?.value(.tls), line)
                XCTAssertEqual(flat?.object(.timings)?.int64(.done), 2, line)
            }
        }
    }

    /// Slots learn which member follows which (`CaptureFlatLine.Slots`'s `following`) and
    /// match the expected name at once: lines read one after another into the same slots,
    /// in the writer's member order, in other orders, and (every eighth line: the check is
    /// slow) cut short at every byte after their whole line was read, each read as it
    /// reads alone.
    func testLinesReadIntoTheSameSlotsInAnyMemberOrderAgree() throws {
        var sequence: [[UInt8]] = []
        var variants = 0
        for (position, line) in try Self.fixtureLines().enumerated() {
            let bytes = Array(line.utf8)
            sequence.append(bytes)
            if case .object(let members) = try CaptureJSONParser.parse(bytes), members.count > 1 {
                for order in [Array(members.reversed()), Array(members.dropFirst()) + members.prefix(1)] {
                    sequence.append(Array(CaptureJSONValue.object(order).jsonText.utf8))
                    sequence.append(bytes)
                    variants += 1
                }
            }
            if position % 8 == 0 {
                sequence += (0..<bytes.count).map { Array(bytes[..<$0]) }
            }
        }
        XCTAssertGreaterThan(variants, 400)
        XCTAssertEqual(CaptureLineReaderAgreement.checkInSequence(sequence), .agreed)
    }

    /// After lines that teach the slots to expect `"flow":` (and `"done":` in `timings`),
    /// a member whose name starts alike, is cut short, is followed by other than a colon,
    /// or has an escape there is read as it reads alone.
    func testAnExpectedNameIsMatchedOnlyWhole() {
        let primer = #"{"t":1,"type":"body","flow":2,"dir":"request","timings":{"done":3,"dnsEnd":4}}"#
        let lines = [
            #"{"t":1,"type":"body","flows":2,"flow":3}"#, #"{"t":1,"type":"body","flo":2,"dir":"x"}"#,
            #"{"t":1,"type":"body","flow" :2}"#, #"{"t":1,"type":"body","flow"}"#, #"{"t":1,"type":"body","flow":"#,
            #"{"t":1,"type":"body","flow"#, #"{"t":1,"type":"body","fl\/w":2}"#, #"{"t":1,"type":"body","fl\w":2}"#,
            #"{"t":1,"type":"body","flow":2}"#, #"{"t":1,"type":"body","flow":2,"timings":{"donf":3,"done":5}}"#,
            #"{"t":1,"type":"body","flow":2,"timings":{"dnsEnd":4,"done":5}}"#, #"{"t":1,"type":"body","f":1}"#,
            #"{"t":1,"type":"body","flow":2,"timings":{"done":5}}"#,
        ]
        for line in lines {
            let sequence = [primer, line, primer, line, line].map { Array($0.utf8) }
            XCTAssertEqual(CaptureLineReaderAgreement.checkInSequence(sequence), .agreed, line)
        }
        let slots = CaptureFlatLine.Slots()
        for line in [primer, #"{"t":1,"type":"body","flows":2,"flow":3,"timings":{"donf":3,"done":5}}"#] {
            Array(line.utf8).withUnsafeBufferPointer { bytes in
                let flat = CaptureFlatLine(bytes, into: slots)
                XCTAssertEqual(flat?.uint64(.flow), line == primer ? 2 : 3)
                XCTAssertEqual(flat?.object(.timings)?.int64(.done), line == primer ? 3 : 5)
            }
        }
    }

    /// Integers are read eight digits at a time: every length up to the 18 digits taken,
    /// at every offset from the end of the line, reads as the parser reads it.
    func testIntegersAreReadAlikeWhateverTheirLength() {
        var checked = 0
        for digits in 1...20 {
            for first in ["1", "9", "0"] {
                let number = first + String(repeating: "7", count: digits - 1)
                for padding in 0...9 {
                    let line = #"{"t":"# + number + #","reason":""# + String(repeating: "x", count: padding) + #""}"#
                    let tail = #"{"reason":"x","t":"# + number + "}"
                    for candidate in [line, tail] {
                        checked += 1
                        switch verdict(candidate) {
                        case .disagreed(let difference): XCTFail("\(difference): \(candidate)")
                        case .declined:
                            XCTAssertTrue(digits > 18 || (first == "0" && digits > 1), "should be read directly: \(candidate)")
                        case .agreed:
                            withFlat(candidate) { XCTAssertEqual($0?.int64(.t), Int64(number), candidate) }
                        }
                    }
                }
            }
        }
        // Sixteen digits, a timestamp's count, read as two words: every digit at every
        // place, and a byte next to the digits' range there instead.
        for place in 0..<16 {
            for replacement in ["0", "1", "5", "9", "/", ":", "a"] {
                var digits = Array("1790000000000123")
                digits[place] = Character(replacement)
                let number = String(digits)
                for line in [#"{"t":"# + number + #","flow":2}"#, #"{"t":"# + number + "}", #"{"t":"# + number + "7}"] {
                    checked += 1
                    switch verdict(line) {
                    case .disagreed(let difference): XCTFail("\(difference): \(line)")
                    case .declined:
                        XCTAssertTrue(Int64(number) == nil || (place == 0 && replacement == "0"), "should be read directly: \(line)")
                    case .agreed:
                        withFlat(line) { XCTAssertEqual($0?.int64(.t), Int64(line.dropFirst(5).prefix { $0.isNumber }), line) }
                    }
                }
            }
        }
        for declined in [#"{"t":1234567a}"#, #"{"t":12345678.5}"#, #"{"t":123456789e1}"#, #"{"t":00000000}"#,
                         #"{"t":1790000000000123.5}"#, #"{"t":1790000000000123e1}"#, #"{"t":0790000000000123}"#] {
            XCTAssertEqual(verdict(declined), .declined, declined)
        }
        XCTAssertGreaterThan(checked, 1_000)
    }

    /// Slots are reused from line to line: a view of a line read before never finds a
    /// member of the next line (nor an object's view one of the next object's).
    func testAViewOfAnEarlierLineNeverFindsTheNextLinesMembers() {
        let slots = CaptureFlatLine.Slots()
        let first = Array(#"{"t":1,"type":"body","error":{"kind":"a"},"tls":{"kind":"b","sni":"c"}}"#.utf8)
        let second = Array(#"{"t":2,"flow":3}"#.utf8)
        first.withUnsafeBufferPointer { firstBytes in
            guard let firstLine = CaptureFlatLine(firstBytes, into: slots) else { return XCTFail("declined") }
            let error = firstLine.object(.error)
            XCTAssertEqual(error?.string(.kind), "a")
            XCTAssertEqual(firstLine.object(.tls)?.string(.kind), "b")
            XCTAssertNil(error?.string(.kind), "not the next object's")
            XCTAssertNil(error?.string(.sni))
            second.withUnsafeBufferPointer { secondBytes in
                let secondLine = CaptureFlatLine(secondBytes, into: slots)
                XCTAssertEqual(secondLine?.int64(.t), 2)
                XCTAssertEqual(secondLine?.uint64(.flow), 3)
                XCTAssertNil(secondLine?.eventType)
                XCTAssertNil(firstLine.int64(.t), "not the next line's")
                XCTAssertNil(firstLine.uint64(.flow))
            }
        }
    }

    /// A line's objects are read as the line is (the last into the object slots, where it
    /// is found as it is; an earlier one read again from its bytes): each is found
    /// whichever is asked for first and however often, a duplicated name finds its last
    /// object, and the general reader agrees.
    func testEveryObjectOfALineIsFoundWhicheverIsAskedFirst() {
        let line = #"{"t":1,"type":"flowEnded","timings":{"requestStart":5,"done":9},"error":{"kind":"reset","message":"m"}}"#
        let duplicated = #"{"t":1,"timings":{"done":1},"error":{"kind":"a"},"timings":{"done":2,"dnsStart":3}}"#
        for text in [line, duplicated] {
            XCTAssertEqual(verdict(text), .agreed, text)
        }
        let slots = CaptureFlatLine.Slots()
        Array(line.utf8).withUnsafeBufferPointer { bytes in
            guard let flat = CaptureFlatLine(bytes, into: slots) else { return XCTFail("declined") }
            XCTAssertEqual(flat.object(.error)?.string(.kind), "reset")
            XCTAssertEqual(flat.object(.timings)?.int64(.requestStart), 5)
            XCTAssertEqual(flat.object(.timings)?.int64(.done), 9)
            XCTAssertNil(flat.object(.timings)?.string(.kind), "not the error's")
            XCTAssertEqual(flat.object(.error)?.string(.message), "m")
            XCTAssertNil(flat.object(.error)?.int64(.done), "not the timings'")
        }
        Array(duplicated.utf8).withUnsafeBufferPointer { bytes in
            guard let flat = CaptureFlatLine(bytes, into: slots) else { return XCTFail("declined") }
            XCTAssertEqual(flat.object(.timings)?.int64(.done), 2)
            XCTAssertEqual(flat.object(.timings)?.int64(.dnsStart), 3)
            XCTAssertEqual(flat.object(.error)?.string(.kind), "a")
            XCTAssertEqual(flat.object(.timings)?.int64(.done), 2)
        }
    }

    /// The event type is found on its bytes, escaped or not; a type not listed is none.
    func testEventTypesAreReadAlike() {
        for (type, expected) in [("flowEnded", CaptureEventType.flowEnded), ("writer-error", .writerError),
                                 (#"writer-error\/"#, nil), (#"flow\u0045nded"#, nil), ("flowEnde", nil), ("x", nil),
                                 ("extension", .extension)] as [(String, CaptureEventType?)] {
            let line = #"{"t":1,"type":""# + type + #""}"#
            if case .disagreed(let difference) = verdict(line) { XCTFail("\(difference): \(line)") }
            withFlat(line) { flat in
                if let flat { XCTAssertEqual(flat.eventType, expected, line) }
            }
        }
    }

    /// A line's type is found as its `type` member is read (and chooses which members
    /// the slots expect after it): the last `type` member counts wherever it is and
    /// whatever it holds, escaped or not, in a line or inside an object, and lines of
    /// each type read one after another into the same slots, in the writer's member
    /// order and in others, each read as it reads alone.
    func testTheEventTypeIsTheLastTypeMembersWhereverItIs() throws {
        let cases: [(String, CaptureEventType?)] = [
            (#"{"t":1,"type":"body","flow":2,"type":"flowEnded"}"#, .flowEnded),
            (#"{"t":1,"type":"body","flow":2,"type":7}"#, nil),
            (#"{"t":1,"type":7,"flow":2,"type":"requestEnd"}"#, .requestEnd),
            (#"{"t":1,"type":"body","flow":2,"type":"x"}"#, nil),
            (#"{"t":1,"type":"x","flow":2,"type":"body"}"#, .body),
            (#"{"t":1,"type":"body","type":"flow\/Ended"}"#, nil),
            (#"{"t":1,"type":"flowEnde\u0064"}"#, nil),
            (#"{"type":"requestHead","t":1,"flow":2}"#, .requestHead),
            (#"{"t":1,"flow":2,"type":"responseEnd"}"#, .responseEnd),
            (#"{"t":1,"type":"writer-error"}"#, .writerError),
            (#"{"t":1,"flow":2,"error":{"type":"body","message":"m"}}"#, nil),
        ]
        let slots = CaptureFlatLine.Slots()
        for (line, expected) in cases + cases.reversed() {
            if case .disagreed(let difference) = verdict(line) { XCTFail("\(difference): \(line)") }
            Array(line.utf8).withUnsafeBufferPointer { bytes in
                guard let flat = CaptureFlatLine(bytes, into: slots) else { return }
                XCTAssertEqual(flat.eventType, expected, line)
                XCTAssertEqual(flat.int64(.t), 1, line)
            }
        }
        withFlat(#"{"t":1,"type":"body","error":{"type":"flowEnded","kind":"k"}}"#) { flat in
            XCTAssertEqual(flat?.eventType, .body)
            XCTAssertEqual(flat?.object(.error)?.eventType, .flowEnded)
        }
        // A flow's lines in the writer's order, then with each line's members after
        // `flow` in another order, then the writer's again, all into the same slots.
        var sequence: [[UInt8]] = []
        let flowLines = try Self.fixtureLines().filter { $0.contains(#""flow":"#) }
        XCTAssertGreaterThan(flowLines.count, 100)
        for round in 0..<3 {
            for line in flowLines {
                guard round == 1, case .object(let members) = try CaptureJSONParser.parse(Array(line.utf8)),
                      members.count > 4 else {
                    sequence.append(Array(line.utf8))
                    continue
                }
                let reordered = Array(members.prefix(3)) + members.dropFirst(3).reversed()
                sequence.append(Array(CaptureJSONValue.object(reordered).jsonText.utf8))
            }
        }
        XCTAssertEqual(CaptureLineReaderAgreement.checkInSequence(sequence), .agreed)
    }

    /// An integer shorter than a word is read from its first word: every length up to
    /// seven, with each byte that may follow a number (or one that may not) after it,
    /// with a word or less left in the line, reads as the parser reads it or is declined.
    func testShortIntegersAreReadFromTheirFirstWord() {
        var checked = 0
        for digits in 1...8 {
            for first in ["1", "0"] {
                let number = first + String(repeating: "3", count: digits - 1)
                for after in ["", "}", ",", ".5", "e1", "/", ":", "a", " ", "9"] {
                    for padding in ["", #","reason":"xxxxxxxx""#] {
                        let line = #"{"flow":"# + number + after + padding + "}"
                        checked += 1
                        switch verdict(line) {
                        case .disagreed(let difference): XCTFail("\(difference): \(line)")
                        case .declined:
                            XCTAssertTrue((first == "0" && (digits > 1 || after == "9")) || !["", "9"].contains(after),
                                          "should be read directly: \(line)")
                        case .agreed:
                            withFlat(line) { XCTAssertEqual($0?.uint64(.flow), UInt64(number + (after == "9" ? "9" : "")), line) }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 300)
    }

    /// Both readers feed the same assembler: a session read from lines the direct
    /// reader takes equals the one read from the same lines with a space after each
    /// comma (which only the general parser reads).
    func testSessionsReadEitherWayAreEqual() throws {
        // (A session of the fixture lines: flows, connections and the warnings of the
        // lines whose times were placeholders.)
        let lines = try Self.fixtureLines().filter { !$0.contains(#""type":"writer-error""#) }
        var direct = CapturedSessionAssembler(directory: "/nonexistent")
        var general = CapturedSessionAssembler(directory: "/nonexistent")
        for (number, line) in lines.enumerated() {
            direct.apply(line: Array(line.utf8)[...], number: number + 1)
            general.apply(line: Array(line.replacingOccurrences(of: #"",""#, with: #"", ""#).replacingOccurrences(of: ",\"", with: ", \"").utf8)[...],
                          number: number + 1)
        }
        let metadata = SessionMetadata(id: "s", started: Timestamp(microseconds: 0), tapline: "test", proxy: [:])
        let left = direct.finish(metadata: metadata)
        let right = general.finish(metadata: metadata)
        XCTAssertEqual(left.warnings, right.warnings)
        XCTAssertEqual(left.flows.count, right.flows.count)
        XCTAssertGreaterThan(left.flows.count, 10)
        XCTAssertEqual(left.flows, right.flows)
        XCTAssertEqual(left.connections, right.connections)
    }
}
