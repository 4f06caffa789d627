import TaplineHTTPClient
import TaplineWire
import XCTest
@testable import TaplineProxy

/// `GRPCWebTranslator` and `GRPCWebCORS`: the gateway's translation, byte by byte.
final class GRPCWebTranslatorTests: XCTestCase {
    private func request(_ contentType: String, origin: String? = "http://app.test") -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:9")
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "42")
        headers.add(name: "X-Grpc-Web", value: "1")
        headers.add(name: "x-tag", value: "t1")
        if let origin { headers.add(name: "Origin", value: origin) }
        return HTTPRequestHead(method: "POST", target: "/tapline.example.v1.Orders/GetOrder", headers: headers)
    }

    private let messages: [[UInt8]] = [GRPCMessageFrame.encoded(Array("first".utf8)), GRPCMessageFrame.encoded([0x0A, 0x03, 0x6F, 0x2D, 0x31])]

    func testOnlyGRPCWebPostsAreTranslated() {
        XCTAssertNotNil(GRPCWebTranslator(request: request("application/grpc-web")))
        XCTAssertNotNil(GRPCWebTranslator(request: request("application/grpc-web+proto")))
        XCTAssertNotNil(GRPCWebTranslator(request: request("application/grpc-web-text; charset=utf-8")))
        XCTAssertNil(GRPCWebTranslator(request: request("application/grpc")))
        XCTAssertNil(GRPCWebTranslator(request: request("application/grpc-webx")))
        XCTAssertNil(GRPCWebTranslator(request: request("application/json")))
        var get = request("application/grpc-web")
        get.method = "GET"
        XCTAssertNil(GRPCWebTranslator(request: get))
    }

    func testUpstreamHeadIsNativeGRPCWithTrailersAndNoLength() throws {
        let translator = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web-text+proto")))
        let head = translator.upstreamRequest(request("application/grpc-web-text+proto"))
        XCTAssertEqual(head.headers.first(name: "content-type"), "application/grpc+proto")
        XCTAssertEqual(head.headers.first(name: "te"), "trailers")
        XCTAssertFalse(head.headers.contains(name: "content-length"))
        XCTAssertEqual(head.headers.first(name: "x-tag"), "t1")
        XCTAssertEqual(head.target, "/tapline.example.v1.Orders/GetOrder")
    }

    func testBinaryRequestBodyPassesThroughAtEverySplit() throws {
        let body = messages.flatMap { $0 }
        for split in 0...body.count {
            var translator = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web")))
            let out = try Array(translator.requestBody(body[..<split])) + Array(translator.requestBody(body[split...]))
            try translator.requestEnd()
            XCTAssertEqual(out, body, "split at \(split)")
        }
    }

    func testTextRequestBodyIsDecodedAtEverySplit() throws {
        let text = messages.flatMap { Array(Base64.encode($0).utf8) }
        for split in 0...text.count {
            var translator = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web-text")))
            let out = try Array(translator.requestBody(text[..<split])) + Array(translator.requestBody(text[split...]))
            try translator.requestEnd()
            XCTAssertEqual(out, messages.flatMap { $0 }, "split at \(split)")
        }
    }

    func testMalformedRequestBodiesAreErrors() throws {
        var truncated = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web")))
        _ = try truncated.requestBody(messages[0].dropLast()[...])
        XCTAssertThrowsError(try truncated.requestEnd()) {
            XCTAssertEqual($0 as? GRPCWebTranslationError, .requestNotFramed(.truncated(received: 9, expected: 10, frameOffset: 0)))
        }
        var notBase64 = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web-text")))
        XCTAssertThrowsError(try notBase64.requestBody(Array("AAAA*AAA".utf8)[...])) {
            XCTAssertEqual($0 as? GRPCWebTranslationError, .requestNotBase64(.invalidGroup(offset: 4)))
        }
        var cutGroup = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web-text")))
        _ = try cutGroup.requestBody(Array("AAAAAAU".utf8)[...])
        XCTAssertThrowsError(try cutGroup.requestEnd())
    }

    private func upstreamHead(_ fields: [(String, String)]) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        for (name, value) in fields { headers.add(name: name, value: value) }
        return HTTP2HeadTranslator.capturedResponse(headers)
    }

    func testResponseStreamsMessagesThenTheTrailerFrame() throws {
        var translator = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web+proto")))
        let head = translator.responseHead(upstreamHead([(":status", "200"), ("content-type", "application/grpc"),
                                                         ("x-meta", "m1"), ("grpc-encoding", "identity")]))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertEqual(head.headers.fields.map { "\($0.name): \($0.value)" }, [
            "content-type: application/grpc-web+proto", "x-meta: m1", "grpc-encoding: identity",
            "access-control-allow-origin: http://app.test", "access-control-expose-headers: grpc-status,grpc-message",
            "vary: Origin",
        ])
        XCTAssertEqual(Array(translator.responseBody(messages[0][...])), messages[0])
        var trailers = HTTPHeaders()
        trailers.add(name: "grpc-status", value: "0")
        trailers.add(name: "X-Trailer", value: "done")
        let frame = translator.responseEnd(trailers: trailers)
        XCTAssertEqual(frame, [0x80, 0, 0, 0, 33] + Array("grpc-status: 0\r\nx-trailer: done\r\n".utf8))
        XCTAssertTrue(translator.responseEnded)
        XCTAssertEqual(translator.failure(GRPCStatus(code: 14, message: "late")).body, [], "nothing after the trailer frame")
    }

    func testTextResponseIsBase64PerChunk() throws {
        var translator = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web-text")))
        _ = translator.responseHead(upstreamHead([(":status", "200"), ("content-type", "application/grpc")]))
        XCTAssertEqual(Array(translator.responseBody(messages[0][...])), Array(Base64.encode(messages[0]).utf8))
        var trailers = HTTPHeaders()
        trailers.add(name: "grpc-status", value: "0")
        XCTAssertEqual(translator.responseEnd(trailers: trailers),
                       Array(Base64.encode([0x80, 0, 0, 0, 16] + Array("grpc-status: 0\r\n".utf8)).utf8))
    }

    func testTrailersOnlyHeadGoesInTheTrailerFrame() throws {
        var translator = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web", origin: nil)))
        let head = translator.responseHead(upstreamHead([(":status", "200"), ("content-type", "application/grpc"),
                                                         ("grpc-status", "5"), ("grpc-message", "no%20such%20order")]))
        XCTAssertEqual(head.headers.fields.map(\.name), ["content-type"])
        let payload = Array("grpc-status: 5\r\ngrpc-message: no%20such%20order\r\n".utf8)
        XCTAssertEqual(translator.responseEnd(trailers: nil), [0x80, 0, 0, 0, UInt8(payload.count)] + payload)
    }

    func testAnUpstreamThatIsNotGRPCEndsWithAMappedStatus() throws {
        var translator = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web")))
        let head = translator.responseHead(upstreamHead([(":status", "404"), ("content-type", "text/html")]))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers.first(name: "content-type"), "application/grpc-web")
        XCTAssertEqual(Array(translator.responseBody(Array("<html>".utf8)[...])), [], "the HTML is dropped")
        var framer = GRPCMessageFramer(framing: .grpcWeb)
        let events = try framer.consume(translator.responseEnd(trailers: nil))
        guard case .trailers(_, let fields)? = events.first else { return XCTFail("\(events)") }
        XCTAssertEqual(GRPCStatus(fields: fields),
                       GRPCStatus(code: 12, message: "the upstream is not gRPC: it answered HTTP 404 with content-type text/html"))
    }

    func testAFailureBeforeTheHeadGivesHeadAndTrailerFrame() throws {
        var translator = try XCTUnwrap(GRPCWebTranslator(request: request("application/grpc-web")))
        let (head, body) = translator.failure(GRPCStatus(code: 14, message: "the upstream failed: reset 100%"))
        XCTAssertEqual(head?.headers.first(name: "content-type"), "application/grpc-web")
        let payload = Array("grpc-status: 14\r\ngrpc-message: the upstream failed: reset 100%25\r\n".utf8)
        XCTAssertEqual(body, [0x80, 0, 0, 0, UInt8(payload.count)] + payload)
    }

    func testPreflightIsAnsweredWithTheRequestedHeaders() {
        var headers = HTTPHeaders()
        headers.add(name: "Origin", value: "http://app.test")
        headers.add(name: "Access-Control-Request-Method", value: "POST")
        headers.add(name: "Access-Control-Request-Headers", value: "content-type,x-grpc-web,x-user-agent,grpc-timeout")
        let preflight = HTTPRequestHead(method: "OPTIONS", target: "/tapline.example.v1.Orders/GetOrder", headers: headers)
        XCTAssertTrue(GRPCWebCORS.isGRPCWebPreflight(preflight))
        let answer = GRPCWebCORS.preflightResponse(to: preflight)
        XCTAssertEqual(answer.status, 204)
        XCTAssertEqual(answer.headers.first(name: "access-control-allow-origin"), "http://app.test")
        XCTAssertEqual(answer.headers.first(name: "access-control-allow-methods"), "POST")
        XCTAssertEqual(answer.headers.first(name: "access-control-allow-headers"), "content-type,x-grpc-web,x-user-agent,grpc-timeout")
        XCTAssertEqual(answer.headers.first(name: "access-control-max-age"), "86400")

        var other = HTTPHeaders()
        other.add(name: "Origin", value: "http://app.test")
        other.add(name: "Access-Control-Request-Method", value: "PUT")
        XCTAssertFalse(GRPCWebCORS.isGRPCWebPreflight(HTTPRequestHead(method: "OPTIONS", target: "/api/items", headers: other)),
                       "a REST preflight goes upstream")
    }
}
