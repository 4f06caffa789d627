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
    /// and the capture-equivalence expectations in compact form, with numeric times.
    private func fixtureLines() throws -> [String] {
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

    private func flat(_ line: String) -> CaptureFlatLine? {
        Array(line.utf8).withUnsafeBufferPointer { CaptureFlatLine($0) }
    }

    private func verdict(_ line: String) -> CaptureLineReaderAgreement.Verdict {
        CaptureLineReaderAgreement.check(Array(line.utf8))
    }

    func testAgreesOnTheRepositorysCaptureLinesAndTakesThePlainOnes() throws {
        let lines = try fixtureLines()
        XCTAssertGreaterThan(lines.count, 400)
        var taken = 0
        var takenTypes = Set<String>()
        for line in lines {
            switch verdict(line) {
            case .agreed:
                taken += 1
                if let type = flat(line).flatMap({ $0.string("type") }) {
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
        for line in try fixtureLines() {
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
        let headers = flat(plain)?.headers("headers")
        XCTAssertEqual(headers, HTTPHeaders([("Host", "x"), ("Accept", "*/*")]))
        XCTAssertEqual(verdict(#"{"t":1,"type":"body","headers":[]}"#), .agreed)
        let escaped = #"{"t":"a\"b\\c\/\n\t","o":{"a":1,"b":"x\"","c":true},"headers":[["E\"Tag","\"x\""],["A","b"]]}"#
        XCTAssertEqual(verdict(escaped), .agreed)
        let line = flat(escaped)
        XCTAssertEqual(line?.string("t"), "a\"b\\c/\n\t")
        XCTAssertEqual(line?.headers("headers"), HTTPHeaders([("E\"Tag", "\"x\""), ("A", "b")]))
        for declined in [
            #"{}"#, #"{"t":1 }"#, #"{"t":-1}"#, #"{"t":1.0}"#, #"{"t":01}"#, #"{"t":9223372036854775807}"#, #"{"t":null}"#,
            #"{"t":"\u000a"}"#, #"{"t":"\x"}"#, #"{"t":"é"}"#, #"{"t":{"a":{"b":1}}}"#, #"{"t":{}}"#, #"{"t":[1]}"#, #"{"t":[["a"]]}"#, #"{"t":[["a","b"],]}"#,
            #"{"t":1,}"#, #"{"t":1}x"#, #"{"t":tru}"#, #"{"t":1"#, "", "[1]",
        ] {
            XCTAssertEqual(verdict(declined), .declined, declined)
        }
    }

    /// Both readers feed the same assembler: a session read from lines the direct
    /// reader takes equals the one read from the same lines with a space after each
    /// comma (which only the general parser reads).
    func testSessionsReadEitherWayAreEqual() throws {
        // (A session of the fixture lines: flows, connections and the warnings of the
        // lines whose times were placeholders.)
        let lines = try fixtureLines().filter { !$0.contains(#""type":"writer-error""#) }
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
