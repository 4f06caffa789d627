import XCTest
@testable import TaplineWire

/// What the serializer writes parses back to what was serialized.
final class HTTP1SerializerTests: XCTestCase {
    func testRequestHeadRoundTrip() throws {
        let head = HTTPRequestHead(method: "PATCH", target: "/items/7?x=%20", headers: HTTPHeaders([
            (name: "Host", value: "example.test"), (name: "x-lower", value: "v"), (name: "X-Dup", value: "1"),
            (name: "X-Dup", value: "2"), (name: "Content-Length", value: "0"),
        ]))
        var parser = HTTP1RequestParser()
        parser.append(HTTP1Serializer.requestHead(head))
        XCTAssertEqual(try parser.nextEvent(), .head(head))
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        XCTAssertNil(try parser.nextEvent())
        XCTAssertTrue(parser.isIdle)
    }

    /// `withRequestHead` hands over exactly `requestHead`'s bytes, for a small head
    /// and one larger than a stack buffer would hold.
    func testWithRequestHeadGivesTheSameBytes() {
        let small = HTTPRequestHead(method: "GET", target: "/f", headers: HTTPHeaders([("Host", "a")]))
        let large = HTTPRequestHead(method: "POST", target: "/" + String(repeating: "p", count: 3000), version: .http1_0,
                                    headers: HTTPHeaders([("X-Big", String(repeating: "v", count: 5000)), ("A", "")]))
        let empty = HTTPRequestHead(method: "GET", target: "/", headers: HTTPHeaders())
        for head in [small, large, empty] {
            var given: [UInt8] = []
            HTTP1Serializer.withRequestHead(head) { given.append(contentsOf: $0) }
            XCTAssertEqual(given, HTTP1Serializer.requestHead(head))
        }
        XCTAssertEqual(HTTP1Serializer.requestHead(empty), Array("GET / HTTP/1.1\r\n\r\n".utf8))
    }

    func testResponseHeadRoundTrip() throws {
        let head = HTTPResponseHead(version: .http1_0, status: 404, reason: "Not Found", headers: HTTPHeaders([
            (name: "Content-Length", value: "0"), (name: "Server", value: "tapline"),
        ]))
        var parser = HTTP1ResponseParser()
        parser.expectResponse(toMethod: "GET")
        parser.append(HTTP1Serializer.responseHead(head))
        XCTAssertEqual(try parser.nextEvent(), .head(head))
        XCTAssertEqual(try parser.nextEvent(), .end(trailers: nil))
        XCTAssertNil(try parser.nextEvent())
    }

    func testChunkedBodyRoundTrip() throws {
        let head = HTTPRequestHead(method: "POST", target: "/", headers: HTTPHeaders([
            (name: "Host", value: "a"), (name: "Transfer-Encoding", value: "chunked"),
        ]))
        let trailers = HTTPHeaders([(name: "X-Sum", value: "42")])
        var wire = HTTP1Serializer.requestHead(head)
        wire += HTTP1Serializer.chunk(Array("hello ".utf8))
        wire += HTTP1Serializer.chunk([UInt8]())
        wire += HTTP1Serializer.chunk(Array(repeating: UInt8(ascii: "z"), count: 300))
        wire += HTTP1Serializer.lastChunk(trailers: trailers)
        let observed = HTTP1TestDriver.runRequests([wire[...]])
        XCTAssertEqual(observed, [.requestHead(head), .body(Array("hello ".utf8) + Array(repeating: UInt8(ascii: "z"), count: 300)),
                                  .end(trailers)])
        XCTAssertEqual(HTTP1Serializer.lastChunk(trailers: nil), Array("0\r\n\r\n".utf8))
    }
}
