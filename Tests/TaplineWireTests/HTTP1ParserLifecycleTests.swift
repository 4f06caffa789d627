import XCTest
@testable import TaplineWire

/// Stopping at CONNECT/Upgrade, resuming, idleness, finish(), and buffer bookkeeping.
final class HTTP1ParserLifecycleTests: XCTestCase {
    private typealias D = HTTP1TestDriver

    func testDeclinedUpgradeResumesHTTP() throws {
        var parser = HTTP1RequestParser()
        parser.append(D.bytes("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"))
        guard case .head(let first)? = try parser.nextEvent() else { return XCTFail("no head") }
        XCTAssertEqual(first.target, "/")
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        XCTAssertNil(try parser.nextEvent())
        XCTAssertNil(try parser.nextEvent())
        XCTAssertFalse(parser.isIdle)
        XCTAssertEqual(parser.bufferedByteCount, 31)
        parser.resumeAfterDeclinedUpgrade()
        guard case .head(let second)? = try parser.nextEvent() else { return XCTFail("no second head") }
        XCTAssertEqual(second.target, "/next")
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        XCTAssertTrue(parser.isIdle)
    }

    func testConnectStaysStoppedAfterTakingTheTunnel() throws {
        var parser = HTTP1RequestParser()
        parser.append(D.bytes("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\nabc"))
        XCTAssertNotNil(try parser.nextEvent())
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        XCTAssertNil(try parser.nextEvent())
        XCTAssertEqual(parser.takeUnparsedBytes(), D.bytes("abc"))
        parser.append(D.bytes("GET / HTTP/1.1\r\n\r\n"))
        XCTAssertNil(try parser.nextEvent())
        XCTAssertEqual(parser.takeUnparsedBytes().count, 18)
        XCTAssertNoThrow(try parser.finish())
    }

    func testIdleAndBufferedCounts() throws {
        var parser = HTTP1RequestParser()
        XCTAssertTrue(parser.isIdle)
        parser.append(D.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab"))
        XCTAssertFalse(parser.isIdle)
        XCTAssertEqual(parser.bufferedByteCount, 49)
        XCTAssertNotNil(try parser.nextEvent())
        XCTAssertEqual(parser.bufferedByteCount, 2)
        XCTAssertEqual(try parser.nextEvent(), .body(D.bytes("ab")[...]))
        XCTAssertNil(try parser.nextEvent())
        XCTAssertFalse(parser.isIdle)
        parser.append(D.bytes("cd"))
        XCTAssertEqual(try parser.nextEvent(), .body(D.bytes("cd")[...]))
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        XCTAssertTrue(parser.isIdle)
        XCTAssertEqual(parser.bufferedByteCount, 0)
    }

    func testFinishWhileIdleOrWithCompleteMessagesBufferedIsFine() throws {
        var idle = HTTP1RequestParser()
        XCTAssertNoThrow(try idle.finish())
        XCTAssertNil(try idle.nextEvent())

        var buffered = HTTP1RequestParser()
        buffered.append(D.bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n\r\n"))
        XCTAssertNoThrow(try buffered.finish())
        var count = 0
        while let event = try buffered.nextEvent() { if case .end = event { count += 1 } }
        XCTAssertEqual(count, 2)
    }

    func testFinishInsideARequestThrowsAfterTheCompleteEvents() throws {
        var parser = HTTP1RequestParser()
        parser.append(D.bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc"))
        XCTAssertThrowsError(try parser.finish()) { XCTAssertEqual($0 as? HTTP1ParseError, .truncatedMessage) }
        XCTAssertNotNil(try parser.nextEvent())
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        XCTAssertNotNil(try parser.nextEvent())
        XCTAssertEqual(try parser.nextEvent(), .body(D.bytes("abc")[...]))
        XCTAssertThrowsError(try parser.nextEvent()) { XCTAssertEqual($0 as? HTTP1ParseError, .truncatedMessage) }
    }

    func testCloseDelimitedResponseReportsReadingUntilClose() throws {
        var parser = HTTP1ResponseParser()
        parser.expectResponse(toMethod: "GET")
        parser.append(D.bytes("HTTP/1.1 200 OK\r\n\r\nab"))
        XCTAssertFalse(parser.isReadingUntilClose)
        XCTAssertNotNil(try parser.nextEvent())
        XCTAssertTrue(parser.isReadingUntilClose)
        XCTAssertEqual(try parser.nextEvent(), .body(D.bytes("ab")[...]))
        XCTAssertNil(try parser.nextEvent())
        XCTAssertNoThrow(try parser.finish())
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        XCTAssertNil(try parser.nextEvent())
        XCTAssertFalse(parser.isReadingUntilClose)
    }

    func testResponsesAreMatchedToRequestsInOrder() throws {
        var parser = HTTP1ResponseParser()
        for method in ["GET", "HEAD", "CONNECT"] { parser.expectResponse(toMethod: method) }
        parser.append(D.bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
            + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"
            + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\ntunnel"))
        var events: [HTTP1ResponseEvent] = []
        while let event = try parser.nextEvent() { events.append(event) }
        XCTAssertEqual(events.count, 9)
        XCTAssertEqual(parser.bufferedByteCount, 6)
        XCTAssertEqual(parser.takeUnparsedBytes(), D.bytes("tunnel"))
    }

    func testBodySlicesSurviveLaterAppends() throws {
        var parser = HTTP1RequestParser()
        parser.append(D.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc"))
        _ = try parser.nextEvent()
        guard case .body(let first)? = try parser.nextEvent() else { return XCTFail("no body") }
        parser.append(D.bytes("defGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        guard case .body(let second)? = try parser.nextEvent() else { return XCTFail("no body") }
        XCTAssertEqual(Array(first), D.bytes("abc"))
        XCTAssertEqual(Array(second), D.bytes("def"))
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        parser.append(D.bytes("\r\n"))
        XCTAssertNotNil(try parser.nextEvent())
        XCTAssertEqual(Array(first), D.bytes("abc"))
    }

    func testManySmallPipelinedRequests() throws {
        let one = D.bytes("GET /r HTTP/1.1\r\nHost: a\r\nUser-Agent: bench\r\n\r\n")
        var input: [UInt8] = []
        for _ in 0..<2_000 { input += one }
        var parser = HTTP1RequestParser()
        var ends = 0
        // Fed in 1000-byte reads so that heads straddle appends.
        var offset = 0
        while offset < input.count {
            parser.append(input[offset..<min(offset + 1000, input.count)])
            offset += 1000
            while let event = try parser.nextEvent() { if case .end = event { ends += 1 } }
        }
        XCTAssertEqual(ends, 2_000)
        XCTAssertTrue(parser.isIdle)
    }
}
