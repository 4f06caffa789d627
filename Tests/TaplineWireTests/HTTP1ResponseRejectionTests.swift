import XCTest
@testable import TaplineWire

/// Malformed responses throw the expected error however the input is split.
final class HTTP1ResponseRejectionTests: XCTestCase {
    private typealias D = HTTP1TestDriver

    private func assertRejects(_ text: String, methods: [String] = ["GET"], with error: HTTP1ParseError, finish: Bool = false,
                               file: StaticString = #filePath, line: UInt = #line) {
        var reference: [HTTP1Observed]?
        for (name, chunks) in D.splits(of: D.bytes(text)) {
            let observed = D.runResponses(chunks, methods: methods, finish: finish)
            guard observed.last == .error(error), reference == nil || reference == observed else {
                XCTFail("\(name): got \(observed), expected error \(error)", file: file, line: line)
                return
            }
            reference = observed
        }
    }

    func testFramingConflicts() {
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", with: .transferEncodingWithContentLength)
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", with: .conflictingContentLength)
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc", with: .invalidContentLength("3x"))
    }

    /// A bodiless response's Content-Length is forwarded (as one field), so values that
    /// disagree, or one that is not a number, are refused as they are for a body.
    func testBodilessResponsesWithConflictingContentLength() {
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n", methods: ["HEAD"], with: .conflictingContentLength)
        assertRejects("HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
                      with: .conflictingContentLength)
        assertRejects("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n",
                      with: .conflictingContentLength)
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", methods: ["HEAD"], with: .invalidContentLength("x"))
        assertRejects("HTTP/1.1 304 Not Modified\r\nContent-Length: -1\r\n\r\n", with: .invalidContentLength("-1"))
    }

    func testBadStatusLines() {
        assertRejects("HTTP/1.1 2000 OK\r\n\r\n", with: .invalidStatusCode("2000"))
        assertRejects("HTTP/1.1 20 OK\r\n\r\n", with: .invalidStatusCode("20"))
        assertRejects("HTTP/1.1 abc OK\r\n\r\n", with: .invalidStatusCode("abc"))
        assertRejects("HTTP/1.1 099 Low\r\n\r\n", with: .invalidStatusCode("099"))
        assertRejects("HTTP/1.1\r\n\r\n", with: .invalidStatusCode(""))
        assertRejects("HTTP/2 200 OK\r\n\r\n", with: .unsupportedVersion("HTTP/2"))
        assertRejects("ICY 200 OK\r\n\r\n", with: .invalidStartLine("ICY 200 OK"))
        assertRejects("\r\nHTTP/1.1 200 OK\r\n\r\n", with: .invalidStartLine(""))
        assertRejects("HTTP/1.1 200 O\u{01}K\r\n\r\n", with: .invalidStartLine("HTTP/1.1 200 O\u{01}K"))
    }

    func testHeaderRules() {
        assertRejects("HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", with: .obsoleteLineFolding)
        assertRejects("HTTP/1.1 200 OK\nContent-Length: 0\n\n", with: .bareLineFeed)
        // Line ends are found with memchr: a CR or LF anywhere in a line, however split.
        assertRejects("HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", with: .bareCarriageReturn)
        assertRejects("HTTP/1.1 200 OK\r\nX: a\r\r\nContent-Length: 0\r\n\r\n", with: .bareCarriageReturn)
        assertRejects("HTTP/1.1 200 OK\r\nX: a\nY: b\r\nContent-Length: 0\r\n\r\n", with: .bareLineFeed)
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\r\n", with: .bareCarriageReturn)
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", with: .bareLineFeed)
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", with: .invalidHeaderName("Content-Length "))
    }

    func testBadChunks() {
        assertRejects("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n", with: .invalidChunkSize("q"))
        assertRejects("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc", with: .invalidChunkSize("missing CRLF after chunk data"))
    }

    func testTruncatedMessagesAtFinish() {
        assertRejects("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", with: .truncatedMessage, finish: true)
        assertRejects("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", with: .truncatedMessage, finish: true)
        assertRejects("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", with: .truncatedMessage, finish: true)
        assertRejects("HTTP/1.1 200 OK\r\nContent-Le", with: .truncatedMessage, finish: true)
    }
}
