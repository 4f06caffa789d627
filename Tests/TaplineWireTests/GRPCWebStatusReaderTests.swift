import TaplineWire
import XCTest

/// `GRPCWebStatusReader`: the status of a gRPC-Web response from its trailer frame, binary
/// or base64 text, however the body is cut; nothing for other media types or broken bodies.
final class GRPCWebStatusReaderTests: XCTestCase {
    private var body: [UInt8] {
        var trailers = HTTPHeaders()
        trailers.add(name: "grpc-status", value: "5")
        trailers.add(name: "grpc-message", value: "no%20order")
        return GRPCMessageFrame.encoded(Array("a message".utf8)) + GRPCMessageFrame.encodedWebTrailers(trailers)
    }

    func testTheTrailerFrameGivesTheStatusWhereverTheBodyIsCut() throws {
        for cut in 0...body.count {
            var reader = try XCTUnwrap(GRPCWebStatusReader(contentType: "application/grpc-web+proto"))
            reader.consume(Array(body[..<cut]))
            if cut < body.count { XCTAssertNil(reader.status, "cut at \(cut): the trailer frame has not passed") }
            reader.consume(Array(body[cut...]))
            XCTAssertEqual(reader.status, GRPCStatus(code: 5, message: "no order"), "cut at \(cut)")
        }
    }

    func testATextBodyIsDecodedFirstRunByRun() throws {
        // Each frame encoded on its own, as a sender that encodes each write does.
        let message = GRPCMessageFrame.encoded(Array("a message".utf8))
        let text = Array((Base64.encode(message) + Base64.encode(Array(body[message.count...]))).utf8)
        for cut in stride(from: 0, through: text.count, by: 3) {
            var reader = try XCTUnwrap(GRPCWebStatusReader(contentType: "application/grpc-web-text"))
            reader.consume(Array(text[..<cut]))
            reader.consume(Array(text[cut...]))
            XCTAssertEqual(reader.status?.code, 5, "cut at \(cut)")
        }
    }

    func testOnlyGRPCWebResponsesAreRead() {
        XCTAssertNil(GRPCWebStatusReader(contentType: "application/grpc"))
        XCTAssertNil(GRPCWebStatusReader(contentType: "application/json"))
        XCTAssertNil(GRPCWebStatusReader(contentType: nil))
    }

    func testABodyThatIsNotGRPCWebHasNoStatus() throws {
        var reader = try XCTUnwrap(GRPCWebStatusReader(contentType: "application/grpc-web"))
        reader.consume([0x40, 0, 0, 0, 0] + GRPCMessageFrame.encodedWebTrailers(HTTPHeaders([("grpc-status", "0")])))
        XCTAssertNil(reader.status, "reserved flag bits: the framer gave up")
    }
}
