import XCTest
@testable import TaplineWire

/// Smuggling vectors and malformed requests: each must throw the expected error
/// however the input is split, and the parser must stay failed.
final class HTTP1RequestRejectionTests: XCTestCase {
    private typealias D = HTTP1TestDriver

    /// Asserts that the last observation of every split is `error`.
    private func assertRejects(_ text: String, with error: HTTP1ParseError, limits: HTTP1Limits = HTTP1Limits(),
                               file: StaticString = #filePath, line: UInt = #line) {
        assertRejects(D.bytes(text), with: error, limits: limits, file: file, line: line)
    }

    private func assertRejects(_ input: [UInt8], with error: HTTP1ParseError, limits: HTTP1Limits = HTTP1Limits(),
                               file: StaticString = #filePath, line: UInt = #line) {
        var reference: [HTTP1Observed]?
        for (name, chunks) in D.splits(of: input) {
            let observed = D.runRequests(chunks, limits: limits)
            guard observed.last == .error(error) else {
                XCTFail("\(name): got \(observed), expected error \(error)", file: file, line: line)
                return
            }
            if let reference, reference != observed {
                XCTFail("\(name): got \(observed), whole input gave \(reference)", file: file, line: line)
                return
            }
            reference = observed
        }
    }

    func testTransferEncodingWithContentLength() {
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                      with: .transferEncodingWithContentLength)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\ncontent-length: 0\r\n\r\n",
                      with: .transferEncodingWithContentLength)
    }

    func testDifferingContentLengths() {
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", with: .conflictingContentLength)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!", with: .conflictingContentLength)
    }

    func testMalformedContentLength() {
        for value in ["abc", "-1", "+5", "5 5", "0x10", "", "5,", "1.0", "99999999999999999999999"] {
            assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\n", with: .invalidContentLength(value))
        }
    }

    func testTransferEncodingNotEndingInChunked() {
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", with: .unsupportedTransferEncoding("gzip"))
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                      with: .unsupportedTransferEncoding("chunked, gzip"))
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                      with: .unsupportedTransferEncoding("chunked, chunked"))
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", with: .unsupportedTransferEncoding("xchunked"))
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", with: .unsupportedTransferEncoding(""))
        assertRejects("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", with: .unsupportedTransferEncoding("chunked"))
    }

    /// Only exactly `chunked` is accepted: a coding before it (forwarded as received,
    /// a next hop may frame it differently) is refused rather than decoded here, with
    /// 501 as RFC 9112 §6.1 and nginx answer a coding not implemented; malformed lists
    /// stay 400.
    func testTransferCodingsBeforeChunked() {
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n",
                      with: .transferCodingNotImplemented("identity, chunked"))
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                      with: .transferCodingNotImplemented("gzip, chunked"))
        XCTAssertEqual(HTTP1ParseError.transferCodingNotImplemented("gzip, chunked").status, 501)
        XCTAssertEqual(HTTP1ParseError.unsupportedTransferEncoding("chunked, chunked").status, 400)
        XCTAssertEqual(HTTP1ParseError.headerSectionTooLarge(limit: 1).status, 431)
    }

    /// The framing the parser decided, which a proxy forwards instead of the fields.
    func testMessageFramingAfterEachHead() throws {
        var parser = HTTP1RequestParser()
        parser.append(D.bytes("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nhi"
            + "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"
            + "GET /c HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /d HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"))
        var framings: [HTTP1MessageFraming] = []
        while let event = try parser.nextEvent() {
            if case .head = event { framings.append(parser.messageFraming) }
        }
        XCTAssertEqual(framings, [.length(2), .chunked, .none, .length(0)])
    }

    private let chunkedHead = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

    func testBadChunkSizes() {
        assertRejects(chunkedHead + "zz\r\n", with: .invalidChunkSize("zz"))
        assertRejects(chunkedHead + "\r\n", with: .invalidChunkSize(""))
        assertRejects(chunkedHead + "-5\r\n", with: .invalidChunkSize("-5"))
        assertRejects(chunkedHead + " 5\r\nhello\r\n", with: .invalidChunkSize(" 5"))
        assertRejects(chunkedHead + "5 \r\nhello\r\n", with: .invalidChunkSize("5 "))
        assertRejects(chunkedHead + "5\nhello\r\n", with: .invalidChunkSize("5"))
        assertRejects(chunkedHead + "5;a\u{01}\r\nhello\r\n", with: .invalidChunkSize("5;a\u{01}"))
        assertRejects(chunkedHead + "5\ra\r\nhello\r\n", with: .invalidChunkSize("5\ra"))
        assertRejects(chunkedHead + "10000000000000000\r\n", with: .invalidChunkSize("10000000000000000"))
    }

    func testMissingCRLFAfterChunkData() {
        assertRejects(chunkedHead + "5\r\nhelloXX", with: .invalidChunkSize("missing CRLF after chunk data"))
        assertRejects(chunkedHead + "5\r\nhello\rX", with: .invalidChunkSize("missing CRLF after chunk data"))
        assertRejects(chunkedHead + "3\r\nhello\r\n", with: .invalidChunkSize("missing CRLF after chunk data"))
    }

    func testChunkLineAndTrailerLimits() {
        let limits = HTTP1Limits(maxTrailerSectionBytes: 32, maxChunkLineBytes: 16)
        assertRejects(chunkedHead + "5;" + String(repeating: "x", count: 20), with: .chunkLineTooLong, limits: limits)
        assertRejects(chunkedHead + "0\r\nX-Long: " + String(repeating: "y", count: 40), with: .trailerSectionTooLarge, limits: limits)
        assertRejects(chunkedHead + "0\r\n folded: x\r\n\r\n", with: .obsoleteLineFolding)
    }

    func testObsFold() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n", with: .obsoleteLineFolding)
        assertRejects("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", with: .obsoleteLineFolding)
    }

    func testBareCRAndBareLF() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", with: .bareCarriageReturn)
        assertRejects("GET / HTTP/1.1\rHost: a\r\n\r\n", with: .bareCarriageReturn)
        assertRejects("GET / HTTP/1.1\nHost: a\n\n", with: .bareLineFeed)
        assertRejects("GET / HTTP/1.1\r\nHost: a\n\r\n", with: .bareLineFeed)
        assertRejects("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", with: .bareLineFeed)
        assertRejects("\r\r\n", with: .bareCarriageReturn)
        // First input the fuzzer reported (the difference was in its harness): a bare LF in the first line.
        assertRejects(D.bytes("\u{08}\ngg"), with: .bareLineFeed)
    }

    func testWhitespaceBeforeColonAndBadNames() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", with: .invalidHeaderName("Transfer-Encoding "))
        assertRejects("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", with: .invalidHeaderName("Host\t"))
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX@Y: 1\r\n\r\n", with: .invalidHeaderName("X@Y"))
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", with: .invalidHeaderName(""))
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", with: .invalidHeaderName("NoColon"))
    }

    func testControlCharactersInValues() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{01}b\r\n\r\n", with: .invalidHeaderValue(name: "X-A"))
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\u{7F}\r\n\r\n", with: .invalidHeaderValue(name: "X-A"))
        assertRejects(D.bytes("GET / HTTP/1.1\r\nHost: a\r\nX-A: a") + [0] + D.bytes("b\r\n\r\n"), with: .invalidHeaderValue(name: "X-A"))
    }

    func testBadRequestLines() {
        assertRejects("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", with: .invalidStartLine("G(T / HTTP/1.1"))
        assertRejects("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", with: .invalidStartLine("GET  / HTTP/1.1"))
        assertRejects("GET /\u{01} HTTP/1.1\r\nHost: a\r\n\r\n", with: .invalidStartLine("GET /\u{01} HTTP/1.1"))
        assertRejects("GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", with: .invalidStartLine("GET / HTTP/1.1 x"))
        assertRejects("GET /\r\nHost: a\r\n\r\n", with: .invalidStartLine("GET /"))
        assertRejects("GET foo HTTP/1.1\r\nHost: a\r\n\r\n", with: .invalidStartLine("GET foo HTTP/1.1"))
        assertRejects("GET * HTTP/1.1\r\nHost: a\r\n\r\n", with: .invalidStartLine("GET * HTTP/1.1"))
        assertRejects("CONNECT /path HTTP/1.1\r\nHost: a\r\n\r\n", with: .invalidStartLine("CONNECT /path HTTP/1.1"))
        assertRejects("get / http/1.1\r\nHost: a\r\n\r\n", with: .invalidStartLine("get / http/1.1"))
        assertRejects(D.bytes("GET /") + [0xFF] + D.bytes(" HTTP/1.1\r\nHost: a\r\n\r\n"),
                      with: .invalidStartLine("GET /\u{FFFD} HTTP/1.1"))
    }

    func testUnsupportedVersions() {
        assertRejects("GET / HTTP/2.0\r\nHost: a\r\n\r\n", with: .unsupportedVersion("HTTP/2.0"))
        assertRejects("GET / HTTP/1.2\r\nHost: a\r\n\r\n", with: .unsupportedVersion("HTTP/1.2"))
        assertRejects("GET / HTTP/1.10\r\nHost: a\r\n\r\n", with: .unsupportedVersion("HTTP/1.10"))
        assertRejects("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", with: .unsupportedVersion("HTTP/2.0"))
    }

    func testHostRules() {
        assertRejects("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", with: .missingHost)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", with: .multipleHostHeaders)
    }

    func testHeaderSectionTooLargeIsCaughtBeforeItEnds() {
        let limits = HTTP1Limits(maxHeaderSectionBytes: 64)
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 100)
        assertRejects(head, with: .headerSectionTooLarge(limit: 64), limits: limits)
        // Exactly at the limit is fine; one more byte is not.
        let exact = "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "c", count: 64 - 32) + "\r\n\r\n"
        XCTAssertEqual(exact.utf8.count, 64)
        XCTAssertEqual(D.runRequests([D.bytes(exact)[...]], limits: limits).count, 2)
        var parser = HTTP1RequestParser(limits: limits)
        parser.append(D.bytes(String(repeating: "A", count: 63)))
        XCTAssertNil(try parser.nextEvent())
        parser.append(D.bytes("A"))
        XCTAssertThrowsError(try parser.nextEvent()) { XCTAssertEqual($0 as? HTTP1ParseError, .headerSectionTooLarge(limit: 64)) }
    }

    func testFailureIsSticky() {
        var parser = HTTP1RequestParser()
        parser.append(D.bytes("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n"))
        for _ in 0..<3 {
            XCTAssertThrowsError(try parser.nextEvent()) { XCTAssertEqual($0 as? HTTP1ParseError, .invalidContentLength("x")) }
        }
        parser.append(D.bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        XCTAssertThrowsError(try parser.nextEvent()) { XCTAssertEqual($0 as? HTTP1ParseError, .invalidContentLength("x")) }
    }
}
