import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture

/// The flow line prefix reader (`CaptureFlowLinePrefix`, what `CapturedFlowDetail.replayPlan`
/// takes some lines by): it takes every flow line the encoder writes, with the time, type
/// and flow the general parser reads, and refuses every other shape of those members.
final class CaptureFlowLinePrefixTests: XCTestCase {
    private func prefix(_ line: String) -> CaptureFlowLinePrefix? {
        Array(line.utf8).withUnsafeBufferPointer { CaptureFlowLinePrefix($0, eventTypeNames: CaptureEventType.names.lookup) }
    }

    /// The parser's `t`, `type` and `flow` of `line`, nil when it is not a JSON object.
    private func parsed(_ line: String) -> (time: Int64?, type: String?, flow: UInt64?)? {
        guard let value = try? CaptureJSONParser.parse(Array(line.utf8)), let object = CaptureJSONObject(value) else { return nil }
        return (object.int64(.t), object.string(.type), object.uint64(.flow))
    }

    /// The lines the encoder writes for `events`.
    private func encoded(_ events: [FlowEvent]) throws -> [String] {
        var encoder = CaptureEventEncoder(options: CaptureOptions(), nextSegmentNumber: { 1 })
        for event in events { encoder.encode(event, now: CaptureTestSupport.t(0)) }
        var spare = CaptureWriter.SpareBuffers()
        let batch = try XCTUnwrap(encoder.takeBatch(spare: &spare))
        let written = withExtendedLifetime(batch) { Array(batch.lines.bytes) }
        return written.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
    }

    func testTakesEveryFlowLineTheEncoderWritesAsTheParserReadsIt() throws {
        var events = CaptureEncoderCorpusTests.events
        // Ids and times of every digit count the prefix reads (0, one digit, 18 digits).
        for (id, micros) in [(0, Int64(0)), (9, 1), (10, 99), (123_456_789_012_345_678, 3_000_000)] {
            let flow = FlowID(UInt64(id)), time = Timestamp(microseconds: micros)
            events += [.flowStarted(flow: flow, connection: ConnectionID(1), kind: .http, scheme: "http", authority: "h:80", time: time),
                       .upstreamConnected(flow: flow, server: "10.0.0.1:80", tls: nil, reused: false, time: time),
                       .responseHead(flow: flow, head: HTTPResponseHead(status: 204), time: time),
                       .flowEnded(flow: flow, timings: FlowTimings(), bytesFromClient: 0, bytesFromServer: 0, error: nil, time: time)]
        }
        var takenTypes = Set<CaptureEventType>()
        for line in try encoded(events) {
            let read = try XCTUnwrap(parsed(line), line)
            guard let flow = read.flow else {
                XCTAssertNil(prefix(line), "a line without \"flow\" is no flow line: \(line)")
                continue
            }
            let taken = try XCTUnwrap(prefix(line), "the encoder's flow line is taken: \(line)")
            XCTAssertEqual(taken.time, read.time, line)
            XCTAssertEqual(taken.type.rawValue, read.type, line)
            XCTAssertEqual(taken.flow, flow, line)
            takenTypes.insert(taken.type)
        }
        for type in [CaptureEventType.flowStarted, .requestHead, .body, .requestEnd, .upstreamConnected, .responseHead,
                     .responseEnd, .flowEnded, .wsMessage, .http2StreamReset, .flowReplays] {
            XCTAssertTrue(takenTypes.contains(type), "\(type) lines are in the corpus")
        }
    }

    func testRefusesEveryOtherShapeOfItsMembers() {
        let good = #"{"t":1790000000000123,"type":"flowEnded","flow":42,"bytesFromClient":0}"#
        XCTAssertEqual(prefix(good)?.flow, 42)
        XCTAssertEqual(prefix(#"{"t":0,"type":"upstreamConnected","flow":0}"#)?.type, .upstreamConnected, "nothing after the flow")
        let refused: [(String, String)] = [
            // escapes
            (#"{"t":1,"type":"flow\u0045nded","flow":42}"#, "a \\u escape in the type"),
            (#"{"t":1,"type":"flowEnded\"","flow":42}"#, "an escaped quote in the type"),
            (#"{"\u0074":1,"type":"flowEnded","flow":42}"#, "an escape in a name"),
            (#"{"t":1,"type":"flowEnded","fl\u006fw":42}"#, "an escape in \"flow\""),
            // whitespace
            (#"{ "t":1,"type":"flowEnded","flow":42}"#, "a space after {"),
            (#"{"t": 1,"type":"flowEnded","flow":42}"#, "a space after a colon"),
            (#"{"t":1 ,"type":"flowEnded","flow":42}"#, "a space before a comma"),
            (#"{"t":1,"type" :"flowEnded","flow":42}"#, "a space before a colon"),
            (#"{"t":1,"type":"flowEnded","flow":42 ,"x":1}"#, "a space after the flow id"),
            (#"{"t":1,"type":"flowEnded","flow":42 }"#, "a space before the closing brace"),
            ("{\"t\":1,\"type\":\"flowEnded\",\"flow\":42}\n", "a newline after the line"),
            ("{\"t\":1,\"type\":\"flowEnded\",\"flow\":42}\r", "a carriage return after the line"),
            ("{\"t\":1,\"type\":\"flowEnded\",\"flow\":42}\t", "a tab after the line"),
            ("\u{FEFF}{\"t\":1,\"type\":\"flowEnded\",\"flow\":42}", "a byte order mark"),
            // numbers
            (#"{"t":01,"type":"flowEnded","flow":42}"#, "a leading zero in t"),
            (#"{"t":1,"type":"flowEnded","flow":042}"#, "a leading zero in flow"),
            (#"{"t":1,"type":"flowEnded","flow":00}"#, "two zeros"),
            (#"{"t":-1,"type":"flowEnded","flow":42}"#, "a negative t"),
            (#"{"t":1,"type":"flowEnded","flow":-42}"#, "a negative flow"),
            (#"{"t":1.5,"type":"flowEnded","flow":42}"#, "a fraction"),
            (#"{"t":1,"type":"flowEnded","flow":42.0}"#, "a fraction in flow"),
            (#"{"t":1e3,"type":"flowEnded","flow":42}"#, "an exponent"),
            (#"{"t":1,"type":"flowEnded","flow":4E1}"#, "an exponent in flow"),
            (#"{"t":1234567890123456789,"type":"flowEnded","flow":42}"#, "19 digits"),
            (#"{"t":1,"type":"flowEnded","flow":"42"}"#, "a flow that is a string"),
            (#"{"t":"1","type":"flowEnded","flow":42}"#, "a t that is a string"),
            (#"{"t":1,"type":"flowEnded","flow":null}"#, "a null flow"),
            (#"{"t":1,"type":"flowEnded","flow":42x}"#, "a flow followed by a letter"),
            // member order and presence
            (#"{"type":"flowEnded","t":1,"flow":42}"#, "type before t"),
            (#"{"t":1,"flow":42,"type":"flowEnded"}"#, "flow before type"),
            (#"{"flow":42,"t":1,"type":"flowEnded"}"#, "flow first"),
            (#"{"t":1,"type":"flowEnded","conn":3,"flow":42}"#, "another member before flow"),
            (#"{"t":1,"type":"flowEnded"}"#, "no flow"),
            (#"{"t":1,"type":"flowEnded","bytesFromClient":0}"#, "no flow, another member"),
            (#"{"t":1,"type":"flowEnded","flows":42}"#, "a longer name than flow"),
            (#"{"t":1,"type":"flowEnded","Flow":42}"#, "flow in another case"),
            (#"{"t":1,"type":"flowEnded","flow":42}}"#, "a second closing brace"),
            (#"{"t":1,"type":"flowEnded","flow":42}{"t":2}"#, "a second object"),
            (#"[{"t":1,"type":"flowEnded","flow":42}]"#, "inside an array"),
            // type
            (#"{"t":1,"type":"flowended","flow":42}"#, "a type in another case"),
            (#"{"t":1,"type":"flowEndedX","flow":42}"#, "an unlisted type"),
            (#"{"t":1,"type":"","flow":42}"#, "an empty type"),
            (#"{"t":1,"type":flowEnded,"flow":42}"#, "an unquoted type"),
            // a line cut short
            (#"{"t":1,"type":"flowEnded","flow":42,"bytesFromClient":0"#, "a line cut after a member"),
            (#"{"t":1,"type":"flowEnded","flow":4"#, "a line cut in the flow id"),
            (#"{"t":1,"type":"flowEnded","flow":"#, "a line cut before the flow id"),
            (#"{"t":1,"type":"flowEn"#, "a line cut in the type"),
            ("", "an empty line"),
            ("}", "a lone brace"),
        ]
        for (line, what) in refused {
            XCTAssertNil(prefix(line), "\(what): \(line)")
        }
    }

    /// Every listed type is taken, with or without members after the prefix (the line's
    /// end near or far from the name); a listed type with any byte added at any place (a
    /// letter, an escape, a control, a space or a non-ASCII byte), or lengthened past the
    /// longest listed name, is refused; so is a line cut at each byte in or right after the name.
    func testFindsTheTypeNameAtEveryLengthAndRefusesEveryByteAddedToIt() {
        let longest = CaptureEventType.allCases.map(\.rawValue.utf8.count).max() ?? 0
        for type in CaptureEventType.allCases {
            let name = type.rawValue
            for tail in ["", #","bytesFromClient":0"#] {
                let line = #"{"t":1790000000000123,"type":"\#(name)","flow":42\#(tail)}"#
                XCTAssertEqual(prefix(line)?.type, type, line)
                let nameEnd = #"{"t":1790000000000123,"type":"\#(name)"#.utf8.count
                for cut in (nameEnd - name.utf8.count)...(nameEnd + 1) {
                    XCTAssertNil(prefix(String(decoding: Array(line.utf8)[..<cut], as: UTF8.self) + "}"), "cut at \(cut): \(line)")
                }
            }
            let characters = Array(name)
            for place in 0...characters.count {
                for added in ["x", "\\\"", "\\", "\u{01}", " ", "\u{C3}", String(repeating: "y", count: longest + 9 - place)] {
                    let changed = String(characters[..<place]) + added + String(characters[place...])
                    guard CaptureEventType(rawValue: changed) == nil else { continue }
                    let line = #"{"t":1790000000000123,"type":"\#(changed)","flow":42,"bytesFromClient":0}"#
                    XCTAssertNil(prefix(line), line)
                }
            }
        }
    }

    /// On the repository's capture lines, every cut of them and lines with one member
    /// repeated or reordered: whatever the reader takes, the parser reads the same time,
    /// type and flow of, unless the line is damaged after the prefix (not a JSON object),
    /// which the reader does not look at.
    func testAgreesWithTheParserWhereverTheLineParses() throws {
        var taken = 0
        var damagedAfterThePrefix = 0
        for line in try CaptureFlatLineTests.fixtureLines() {
            let bytes = Array(line.utf8)
            var variants = (1...bytes.count).map { String(decoding: bytes[..<$0], as: UTF8.self) }
            for (target, replacement) in [(",", ", "), (":", ": "), (#""flow":"#, #""flow":0"#), ("}", " }")] {
                if let range = line.range(of: target) { variants.append(line.replacingCharacters(in: range, with: replacement)) }
            }
            for variant in variants {
                guard let read = prefix(variant) else { continue }
                taken += 1
                guard let parsed = parsed(variant) else {
                    damagedAfterThePrefix += 1
                    continue
                }
                XCTAssertEqual(read.time, parsed.time, variant)
                XCTAssertEqual(read.type.rawValue, parsed.type, variant)
                XCTAssertEqual(read.flow, parsed.flow, variant)
            }
        }
        XCTAssertGreaterThan(taken, 50, "the docs' flow lines are in the encoder's shape")
        XCTAssertGreaterThan(damagedAfterThePrefix, 0, "some cuts end in a brace after the prefix")
    }

    /// `CaptureFlatLine` read on from after the prefix (what `.replayPlan` does with a line
    /// it does not take by its prefix) declines and answers exactly as it does reading the
    /// whole line, on the repository's lines, members repeated after the prefix and every
    /// cut (`CaptureLineReaderAgreement` compares both with the parser).
    func testReadingOnAfterThePrefixIsReadingTheWholeLine() throws {
        var readOn = 0
        for line in try CaptureFlatLineTests.fixtureLines() {
            let bytes = Array(line.utf8)
            var variants = (1...bytes.count).map { Array(bytes[..<$0]) }
            for (target, replacement) in [("}", #","t":5}"#), ("}", #","type":"body"}"#), ("}", #","flow":"x"}"#),
                                          ("}", #","flow":9,"flow":3}"#), ("}", ", }"), ("}", "}}")] {
                if let range = line.range(of: target, options: .backwards) {
                    variants.append(Array(line.replacingCharacters(in: range, with: replacement).utf8))
                }
            }
            for variant in variants {
                if case .disagreed(let difference) = CaptureLineReaderAgreement.check(variant) {
                    XCTFail("\(difference): \(String(decoding: variant, as: UTF8.self))")
                }
                let taken = variant.withUnsafeBufferPointer { bytes in
                    CaptureFlowLinePrefix(bytes, eventTypeNames: CaptureEventType.names.lookup)
                        .flatMap { CaptureFlatLine(bytes, into: CaptureFlatLine.Slots(), after: $0) } != nil
                }
                if taken { readOn += 1 }
            }
        }
        XCTAssertGreaterThan(readOn, 100)
    }
}
