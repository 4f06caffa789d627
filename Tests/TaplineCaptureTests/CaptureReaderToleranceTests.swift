import Foundation
import XCTest
import TaplineFlow
@testable import TaplineCapture

final class CaptureReaderToleranceTests: XCTestCase {
    private var root = ""
    private var directory = ""

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
        directory = try CaptureTestSupport.makeSyntheticSession(root: root).0
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private var eventsPath: String { directory + "/events.jsonl" }

    func testTornLastLineIsSkippedWithAWarning() throws {
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: eventsPath)[.size] as? Int)
        XCTAssertEqual(truncate(eventsPath, off_t(size - 7)), 0)  // cut inside the last line (connectionClosed of conn 2)
        let session = try CapturedSession.open(directory: directory)
        XCTAssertEqual(session.warnings, ["events.jsonl: last line is incomplete (session was not closed cleanly); ignored"])
        XCTAssertEqual(session.flows.count, 4)
        XCTAssertNil(session.connections[1].closed)
        XCTAssertNotNil(session.connections[0].closed)
    }

    func testCorruptMiddleLineIsNamedAndSkipped() throws {
        var lines = try CaptureTestSupport.lines(of: eventsPath)
        let index = try XCTUnwrap(lines.firstIndex { $0.contains("\"type\":\"upstreamConnected\"") && $0.contains("\"flow\":2") })
        lines[index] = String(lines[index].prefix(20)) + "\u{0}garbage"
        try CaptureTestSupport.writeLines(lines, to: eventsPath)
        let session = try CapturedSession.open(directory: directory)
        XCTAssertEqual(session.warnings.count, 1, "\(session.warnings)")
        XCTAssertTrue(session.warnings[0].hasPrefix("events.jsonl:\(index + 1): "), session.warnings[0])
        XCTAssertNil(try XCTUnwrap(session.flow(2)).serverAddress)
        XCTAssertEqual(try XCTUnwrap(session.flow(2)).response?.status, 200)
    }

    func testUnknownEventTypesAreSkippedWithAWarning() throws {
        var lines = try CaptureTestSupport.lines(of: eventsPath)
        lines.insert(#"{"t":1,"type":"websocketMessage","flow":1,"opcode":1}"#, at: 5)
        lines.insert(#"{"t":2,"type":"websocketMessage","flow":1,"opcode":2}"#, at: 6)
        try CaptureTestSupport.writeLines(lines, to: eventsPath)
        let session = try CapturedSession.open(directory: directory)
        XCTAssertEqual(session.warnings, [#"events.jsonl: skipped 2 events of unknown type "websocketMessage" (written by a newer tapline?)"#])
        XCTAssertEqual(session.flows.count, 4)
    }

    func testNewerMajorVersionIsRejected() throws {
        let path = directory + "/session.json"
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: #""version":2"#, with: #""version":3"#)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try CapturedSession.open(directory: directory)) { error in
            XCTAssertEqual(error as? CaptureError, .unsupportedVersion(path: path, version: 3))
            XCTAssertTrue("\(error)".contains("upgrade tapline"))
        }
    }

    func testMissingSessionJSONIsNotASession() throws {
        try FileManager.default.removeItem(atPath: directory + "/session.json")
        XCTAssertThrowsError(try CapturedSession.open(directory: directory)) { error in
            XCTAssertEqual(error as? CaptureError, .notASession(path: directory))
        }
    }

    func testUnclosedSessionIsReadableAndSaysSo() throws {
        let writer = try CaptureWriter(root: root)
        _ = CaptureTestSupport.recordSyntheticSession(into: writer)
        // Wait, without closing, until the writer thread has written everything: lines
        // reach the file in the order recorded, so until the last event recorded (the
        // close of connection 2) is the file's last whole line. A file has no event to
        // wait on: it is polled, with a deadline.
        let eventsPath = writer.directory + "/events.jsonl"
        let deadline = Date().addingTimeInterval(10)
        while !Self.lastWholeLine(of: eventsPath).contains(#""type":"connectionClosed","conn":2,"#), Date() < deadline {
            usleep(1000)
        }
        XCTAssertTrue(Self.lastWholeLine(of: eventsPath).contains(#""type":"connectionClosed","conn":2,"#),
                      "the writer did not write the whole session within 10 s")
        let session = try CapturedSession.open(directory: writer.directory)
        XCTAssertFalse(session.isClosed)
        // Its writer is alive: being written is said by the caller, it is not a warning.
        XCTAssertTrue(session.isBeingWritten)
        XCTAssertFalse(session.warnings.contains { $0.contains("not closed") }, "\(session.warnings)")
        XCTAssertEqual(session.flows.count, 4)
        let summary = try SessionCatalog.summary(directory: writer.directory)
        XCTAssertEqual(summary.flows, 4)  // counted from events.jsonl: no stats yet
        XCTAssertFalse(summary.isClosed)
        writer.close()
    }

    /// The last line of `path` that ends with a newline ("" if none yet).
    private static func lastWholeLine(of path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let end = text.lastIndex(of: "\n") else { return "" }
        let start = text[..<end].lastIndex(of: "\n").map(text.index(after:)) ?? text.startIndex
        return String(text[start..<end])
    }

    func testCatalogListsSessionsAndResolvesReferences() throws {
        let second = try CaptureTestSupport.makeSyntheticSession(root: root).0
        try FileManager.default.createDirectory(atPath: root + "/not-a-session", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/broken", withIntermediateDirectories: true)
        try "{oops".write(toFile: root + "/broken/session.json", atomically: false, encoding: .utf8)

        let catalog = SessionCatalog(root: root)
        let (sessions, warnings) = catalog.list()
        XCTAssertEqual(sessions.map(\.directory).sorted(), [directory, second].sorted())
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("broken"), warnings[0])
        XCTAssertEqual(sessions[0].flows, 4)
        XCTAssertGreaterThan(sessions[0].bytes, 100_000)
        XCTAssertTrue(sessions[0].isClosed)

        XCTAssertEqual(try catalog.resolve("latest"), sessions[1].directory)
        XCTAssertEqual(try catalog.resolve(sessions[0].id), sessions[0].directory)
        XCTAssertEqual(try catalog.resolve(directory), directory)
        XCTAssertThrowsError(try catalog.resolve("2")) { error in
            guard case .ambiguousSession = error as? CaptureError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try catalog.resolve("nope")) { error in
            XCTAssertEqual(error as? CaptureError, .sessionNotFound("nope"))
        }
    }
}
