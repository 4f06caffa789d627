import Foundation
import XCTest
import TaplineFlow
@testable import TaplineCapture
@testable import TaplineCLI

/// `tapline sessions` and `tapline show` against a synthetic session: the
/// lines a user reads (method, URL, status, sizes) and the exit codes.
final class SessionCommandsTests: XCTestCase {
    private var root = ""
    private var directory = ""
    private var expected: CaptureTestSupport.Expected?
    private let plain = TerminalStyle(enabled: false)

    override func setUpWithError() throws {
        root = try CaptureTestSupport.makeTemporaryDirectory()
        (directory, expected) = try CaptureTestSupport.makeSyntheticSession(root: root)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    func testSessionsTableShowsIdFlowsBytesAndStatus() throws {
        let sessions = SessionCatalog(root: root).list().sessions
        let lines = SessionTable.lines(sessions, style: plain)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("ID"), lines[0])
        XCTAssertTrue(lines[0].contains("STARTED") && lines[0].contains("FLOWS") && lines[0].contains("BYTES"))
        let id = (directory as NSString).lastPathComponent
        XCTAssertTrue(lines[1].hasPrefix(id), lines[1])
        XCTAssertTrue(lines[1].hasSuffix("closed"), lines[1])
        XCTAssertTrue(lines[1].contains("  4  "), lines[1])
        XCTAssertTrue(lines[1].contains(" kB"), lines[1])

        let (status, output) = try captureStandardOutput { SessionsCommand.run(["--capture", root, "--json"]) }
        XCTAssertEqual(status, 0)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        XCTAssertEqual(json.first?["id"] as? String, id)
        XCTAssertEqual(json.first?["flows"] as? Int, 4)
        XCTAssertEqual(json.first?["closed"] as? Bool, true)
    }

    func testShowListsOneLinePerFlow() throws {
        let session = try CapturedSession.open(directory: directory)
        let lines = ShowFlowList.lines(session, style: plain)
        XCTAssertEqual(lines.count, 5)
        let columns = lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        XCTAssertEqual(columns[0], ["ID", "METHOD", "URL", "STATUS", "TYPE", "REQ", "RESP", "TIME", "PROTO"])
        XCTAssertEqual(Array(columns[1].prefix(5)), ["1", "POST", "https://api.example.com:443/v1/upload?name=a%20b&x=1", "201", "application/json"])
        XCTAssertEqual(Array(columns[1].suffix(7)), ["76", "kB", "103", "kB", "12", "ms", "HTTP/1.1"])
        XCTAssertEqual(Array(columns[2].prefix(5)), ["2", "GET", "http://plain.example:80/hello", "200", "text/plain"])
        XCTAssertEqual(Array(columns[3].prefix(4)), ["3", "DELETE", "http://down.example:80/x", "upstream-unreachable"])
        XCTAssertEqual(Array(columns[4].prefix(4)), ["4", "TUNNEL", "tcp://pinned.example:443", "tunnel"])
        XCTAssertTrue(lines[4].contains("1.2 kB") && lines[4].contains("5.7 kB"), lines[4])

        let (status, output) = try captureStandardOutput { ShowCommand.run([directory]) }
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output.split(separator: "\n").map(String.init), lines)
    }

    func testShowFlowPrintsHeadsInOrderTimingsAndPreviews() throws {
        let session = try CapturedSession.open(directory: directory)
        let lines = ShowFlowDetail.lines(try XCTUnwrap(session.flow(1)), session: session, style: plain)
        let text = lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("  POST /v1/upload?name=a%20b&x=1 HTTP/1.1\n  Host: api.example.com\n  transfer-encoding: chunked\n  Expect: 100-continue\n"), text)
        XCTAssertTrue(text.contains("X-Weird-CASE: quote \" backslash \\ tab \t unicode é ✓"), text)
        XCTAssertTrue(text.contains("  HTTP/1.1 100 Continue"), text)
        XCTAssertTrue(text.contains("  HTTP/1.1 201 Created\n  Content-Type: application/json; charset=utf-8"), text)
        XCTAssertTrue(text.contains("TLSv1.3  TLS_AES_128_GCM_SHA256  SNI api.example.com  ALPN http/1.1"), text)
        XCTAssertTrue(text.contains("certificate  CN=api.example.com,O=Example \"Inc\""), text)
        XCTAssertTrue(text.contains("sha256       " + String(repeating: "ab", count: 32)), text)
        XCTAssertTrue(text.contains("client       127.0.0.1:50001"), text)
        XCTAssertTrue(text.contains("server       93.184.216.34:443 (new connection)"), text)
        XCTAssertTrue(text.contains("  dns          0.01 ms"), text)
        XCTAssertTrue(text.contains("  done         +12 ms"), text)
        XCTAssertTrue(text.contains("bytes binary"), text)
        XCTAssertTrue(text.contains("X-Checksum: c0ffee"), text)
        XCTAssertTrue(text.contains("grpc-status: 0"), text)

        let aborted = ShowFlowDetail.lines(try XCTUnwrap(session.flow(3)), session: session, style: plain).joined(separator: "\n")
        XCTAssertTrue(aborted.contains("Error\n  upstream-unreachable: connect to 10.0.0.9:80 failed: Connection refused"), aborted)
    }

    func testShowBodyStreamsRawBytesAndFlagsErrors() throws {
        let (status, output) = try captureStandardOutputBytes {
            ShowCommand.run(["--capture", root, "latest", "--flow", "1", "--body", "response"])
        }
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output, expected?.responseBody1)

        XCTAssertEqual(try captureStandardOutput { ShowCommand.run(["--capture", root, "latest", "--flow", "99"]) }.0, 1)
        XCTAssertEqual(try captureStandardOutput { ShowCommand.run(["--capture", root, "no-such-session"]) }.0, 1)
        XCTAssertEqual(try captureStandardOutput { ShowCommand.run(["--capture", root, "latest", "--body", "response"]) }.0, 2)
        XCTAssertEqual(try captureStandardOutput { ShowCommand.run(["--capture", root, "latest", "--flow", "1", "--body", "sideways"]) }.0, 2)
        XCTAssertEqual(try captureStandardOutput { ShowCommand.run([]) }.0, 2)
        XCTAssertEqual(try captureStandardOutput { SessionsCommand.run(["--bogus"]) }.0, 2)
    }

    func testTextBodyPreviewAndTerminalEscaping() throws {
        XCTAssertEqual(ShowBodyPreview.text(Array("{\"a\": 1}\n".utf8), cutAtLimit: false), "{\"a\": 1}\n")
        XCTAssertNil(ShowBodyPreview.text([0x1F, 0x8B, 0x08, 0x00], cutAtLimit: false))
        XCTAssertEqual(ShowBodyPreview.text(Array("é".utf8).dropLast() + [], cutAtLimit: true), "")
        XCTAssertEqual(ShowText.sanitize("a\u{1B}[31mb"), "a\\x1b[31mb")
        XCTAssertEqual(ShowText.sanitize("plain é\ttab"), "plain é\ttab")
        XCTAssertEqual(ShowText.sanitize("c1\u{85}x\u{7F}"), "c1\\x85x\\x7f")
        XCTAssertEqual(ShowText.sanitize("a\nb"), "a\\x0ab")
        XCTAssertEqual(ShowText.sanitize("a\nb", keepNewlines: true), "a\nb")
    }

    func testMillisecondsReadLikePrintf() {
        for value in [0.0, 0.004, 0.005, 0.05, 0.126, 0.994, 0.999, 1.0, 1.04, 1.05, 3.44, 9.94, 9.96, 10.0, 12.5, 1234.4] {
            let expected: String
            if value >= 10 { expected = "\(Int(value.rounded())) ms" }
            else if value >= 1 { expected = String(format: "%.1f ms", value) }
            else { expected = String(format: "%.2f ms", value) }
            XCTAssertEqual(ShowText.milliseconds(value), expected, "\(value)")
        }
    }

    // MARK: - Helpers

    private func captureStandardOutput(_ body: () -> Int32) throws -> (Int32, String) {
        let (status, bytes) = try captureStandardOutputBytes(body)
        return (status, String(decoding: bytes, as: UTF8.self))
    }

    /// Runs `body` with fd 1 (and stderr, to keep the test log quiet) redirected to files.
    private func captureStandardOutputBytes(_ body: () -> Int32) throws -> (Int32, [UInt8]) {
        let path = root + "/stdout-" + UUID().uuidString
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let errorFD = open("/dev/null", O_WRONLY)
        fflush(nil)
        let savedOut = dup(1), savedError = dup(2)
        dup2(fd, 1)
        dup2(errorFD, 2)
        let status = body()
        fflush(nil)
        dup2(savedOut, 1)
        dup2(savedError, 2)
        close(savedOut); close(savedError); close(fd); close(errorFD)
        return (status, try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
    }
}
