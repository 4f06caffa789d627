import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire
import XCTest
@testable import TaplineProxy

/// `GRPCWebGatewayLeg` around a scripted upstream leg: what the owner hears when the
/// upstream answers, resets mid-stream, or delivers events inside the owner's call, and
/// how the owner's consumed bytes credit the upstream.
final class GRPCWebGatewayLegTests: XCTestCase {
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 1)
    }

    override func tearDown() {
        group.shutdown()
    }

    /// A gateway leg over a scripted upstream, owned by a recording owner.
    private func makeLeg() -> (GRPCWebGatewayLeg, ScriptedUpstreamLeg, RecordingLegOwner) {
        let upstream = ScriptedUpstreamLeg()
        let leg = GRPCWebGatewayLeg(inner: upstream, loop: group.loops[0])
        let owner = RecordingLegOwner()
        leg.delegate = owner
        return (leg, upstream, owner)
    }

    /// `makeLeg` with a gRPC-Web request of `contentType` sent.
    private func gateway(contentType: String) -> (GRPCWebGatewayLeg, ScriptedUpstreamLeg, RecordingLegOwner) {
        let (leg, upstream, owner) = makeLeg()
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:8080")
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "16")
        leg.sendHead(.http1(HTTPRequestHead(method: "POST", target: "/pkg.Svc/Watch", headers: headers)), endStream: false)
        return (leg, upstream, owner)
    }

    private func upstreamHead() -> LegResponseHead {
        var fields = HTTPHeaders()
        fields.add(name: ":status", value: "200")
        fields.add(name: "content-type", value: "application/grpc")
        return LegResponseHead(received: HTTP2HeadTranslator.capturedResponse(fields), framing: .chunked, statedContentLength: nil)
    }

    private let message = GRPCMessageFrame.encoded(Array("event".utf8))

    func testTheUpstreamGetsNativeGRPCAndTheOwnerGetsGRPCWeb() throws {
        let (leg, upstream, owner) = gateway(contentType: "application/grpc-web-text")
        guard case .http1(let sent)? = upstream.heads.first else { return XCTFail("\(upstream.heads)") }
        XCTAssertEqual(sent.headers.first(name: "content-type"), "application/grpc")
        XCTAssertEqual(sent.headers.first(name: "te"), "trailers")
        let text = Array(Base64.encode(message).utf8)
        leg.sendBody(text[..<7])
        leg.sendBody(text[7...])
        leg.sendEnd(trailers: nil)
        XCTAssertEqual(upstream.body, message)
        XCTAssertTrue(upstream.ended)

        leg.legResponseStarted(upstream)
        leg.leg(upstream, receivedHead: upstreamHead())
        leg.leg(upstream, receivedBody: message[...])
        var trailers = HTTPHeaders()
        trailers.add(name: "grpc-status", value: "0")
        leg.leg(upstream, receivedEnd: trailers)
        leg.legFinishedInput(upstream)
        let frame = GRPCMessageFrame.encodedWebTrailers(trailers)
        XCTAssertEqual(owner.log, ["started", "head 200 application/grpc-web-text", "body 16",
                                   "body \(Base64.encode(frame).utf8.count)", "end", "finished"])
        XCTAssertEqual(owner.body, Array((Base64.encode(message) + Base64.encode(frame)).utf8))
    }

    func testAResetMidStreamEndsTheResponseWithUnavailable() throws {
        let (leg, upstream, owner) = gateway(contentType: "application/grpc-web")
        leg.sendBody(message[...])
        leg.sendEnd(trailers: nil)
        leg.legResponseStarted(upstream)
        leg.leg(upstream, receivedHead: upstreamHead())
        leg.leg(upstream, receivedBody: message[...])
        leg.leg(upstream, failed: FlowError(.upstreamAborted, "127.0.0.1:50051 reset the HTTP/2 stream with INTERNAL_ERROR"))
        leg.legFinishedInput(upstream)
        XCTAssertEqual(owner.log, ["started", "head 200 application/grpc-web", "body 10", "body 118", "end", "finished"])
        var framer = GRPCMessageFramer(framing: .grpcWeb)
        let events = try framer.consume(owner.body)
        guard case .trailers(_, let fields)? = events.last else { return XCTFail("\(events)") }
        XCTAssertEqual(GRPCStatus(fields: fields), GRPCStatus(
            code: 14, message: "the upstream failed: 127.0.0.1:50051 reset the HTTP/2 stream with INTERNAL_ERROR"))
    }

    func testConsumedBytesCreditTheUpstreamBytesTheyCarried() {
        let (leg, upstream, owner) = gateway(contentType: "application/grpc-web-text")
        leg.leg(upstream, receivedHead: upstreamHead())
        leg.leg(upstream, receivedBody: message[...])      // 10 upstream bytes -> 16 base64 characters
        leg.leg(upstream, receivedEnd: nil)                // the trailer frame: no upstream bytes behind it
        XCTAssertEqual(owner.log.filter { $0.hasPrefix("body") }.first, "body 16")
        leg.consumed(8)
        XCTAssertEqual(upstream.consumedBytes, 5, "half the chunk, half its upstream bytes")
        leg.consumed(8)
        XCTAssertEqual(upstream.consumedBytes, 10)
        leg.consumed(owner.body.count - 16)
        XCTAssertEqual(upstream.consumedBytes, 10, "the trailer frame credits nothing")
    }

    /// The upstream leg ends each batch, also one it delivers inside the owner's call.
    func testTheUpstreamLegsEndOfInputIsPassedOnAfterItsBatch() {
        let (leg, upstream, owner) = gateway(contentType: "application/grpc-web")
        leg.leg(upstream, receivedHead: upstreamHead())
        leg.leg(upstream, receivedBody: message[...])
        leg.legFinishedInput(upstream)
        upstream.onConsumed = { [unowned upstream] in
            upstream.onConsumed = nil
            leg.leg(upstream, receivedBody: self.message[...])
            leg.legFinishedInput(upstream) // inside the owner's call, as HTTP2ClientLeg says it
        }
        leg.consumed(10)
        XCTAssertEqual(owner.log, ["head 200 application/grpc-web", "body 10", "finished", "body 10", "finished"])
    }

    func testARequestThatIsNotGRPCWebPassesThroughUnchanged() {
        let (leg, upstream, owner) = makeLeg()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        let head = HTTPRequestHead(method: "POST", target: "/api", headers: headers)
        leg.sendHead(.http1(head), endStream: false)
        guard case .http1(let sent)? = upstream.heads.first else { return XCTFail() }
        XCTAssertEqual(sent, head)
        leg.leg(upstream, receivedHead: LegResponseHead(received: HTTPResponseHead(status: 404), framing: .contentLength(3),
                                                        statedContentLength: nil))
        leg.leg(upstream, receivedBody: Array("no!".utf8)[...])
        leg.consumed(3)
        XCTAssertEqual(upstream.consumedBytes, 3)
        XCTAssertEqual(owner.log, ["head 404 -", "body 3"])
    }
}
