import TaplineWire
import XCTest

final class GRPCMessageFramerTests: XCTestCase {
    private func frame(_ payload: [UInt8], flags: UInt8 = 0) -> [UInt8] {
        let length = UInt32(payload.count)
        return [flags, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + payload
    }

    /// The events and error of feeding `chunks` in order, then ending the stream.
    private func run(_ chunks: [ArraySlice<UInt8>], framing: GRPCFraming = .grpc,
                     maxMessageBytes: Int = 1 << 20) -> ([GRPCFramerEvent], GRPCFramingError?) {
        var framer = GRPCMessageFramer(framing: framing, maxMessageBytes: maxMessageBytes)
        var events: [GRPCFramerEvent] = []
        do {
            for chunk in chunks { try framer.consume(chunk, into: &events) }
            try framer.finish()
            return (events, nil)
        } catch {
            return (events, error)
        }
    }

    /// Several messages: compressed and not, an empty one, one spanning many chunks.
    private lazy var stream: [UInt8] = frame([0x08, 0x01]) + frame([], flags: 1) + frame(Array(repeating: 0x41, count: 300),
                                                                                         flags: 1) + frame([0x0A, 0x00])

    func testMessagesAreFramedWithTheirExtents() {
        let (events, error) = run([stream[...]])
        XCTAssertNil(error)
        XCTAssertEqual(events, [
            .message(GRPCMessageFrame(flags: 0, frameOffset: 0, payloadRange: 5..<7)),
            .message(GRPCMessageFrame(flags: 1, frameOffset: 7, payloadRange: 12..<12)),
            .message(GRPCMessageFrame(flags: 1, frameOffset: 12, payloadRange: 17..<317)),
            .message(GRPCMessageFrame(flags: 0, frameOffset: 317, payloadRange: 322..<324)),
        ])
        guard case .message(let big) = events[2] else { return XCTFail("no third message") }
        XCTAssertTrue(big.isCompressed)
        XCTAssertEqual(big.length, 300)
        XCTAssertEqual(Array(big.payload(in: stream)), Array(repeating: 0x41, count: 300))
    }

    func testSplitAtEveryOffsetGivesTheSameEvents() {
        let whole = run([stream[...]])
        for split in 0...stream.count {
            let parts = run([stream[..<split], stream[split...]])
            XCTAssertEqual(parts.0, whole.0, "split at \(split)")
            XCTAssertEqual(parts.1, whole.1, "split at \(split)")
        }
        for size in [1, 2, 3, 7] {
            let chunks = stride(from: 0, to: stream.count, by: size).map { stream[$0..<min($0 + size, stream.count)] }
            XCTAssertEqual(run(chunks).0, whole.0, "chunks of \(size)")
        }
    }

    func testMessageOverTheLimitIsAnError() {
        let (events, error) = run([(frame([1]) + frame(Array(repeating: 0, count: 11)))[...]], maxMessageBytes: 10)
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(error, .messageTooLarge(length: 11, limit: 10, frameOffset: 6))
    }

    func testReservedFlagBitsAreAnError() {
        XCTAssertEqual(run([frame([1], flags: 0x02)[...]]).1, .reservedFlags(0x02, frameOffset: 0))
        XCTAssertEqual(run([frame([1], flags: 0x80)[...]]).1, .reservedFlags(0x80, frameOffset: 0))
    }

    func testStreamEndingInsideAFrameIsTruncated() {
        XCTAssertEqual(run([frame([1, 2, 3]).dropLast()]).1, .truncated(received: 7, expected: 8, frameOffset: 0))
        XCTAssertEqual(run([(frame([1]) + [0, 0])[...]]).1, .truncated(received: 2, expected: 5, frameOffset: 6))
    }

    func testFailedFramerKeepsFailing() {
        var framer = GRPCMessageFramer()
        var events: [GRPCFramerEvent] = []
        XCTAssertThrowsError(try framer.consume([0x04, 0, 0, 0, 0][...], into: &events))
        XCTAssertThrowsError(try framer.consume(frame([1])[...], into: &events)) {
            XCTAssertEqual($0 as? GRPCFramingError, .reservedFlags(0x04, frameOffset: 0))
        }
        XCTAssertTrue(events.isEmpty)
    }

    func testGRPCWebTrailerFrameIsRecognised() {
        let trailers = Array("grpc-status: 0\r\nGrpc-Message: all good \r\n".utf8)
        let body = frame([0x08, 0x01]) + frame(trailers, flags: 0x80)
        let whole = run([body[...]], framing: .grpcWeb)
        XCTAssertNil(whole.1)
        var expected = HTTPHeaders()
        expected.add(name: "grpc-status", value: "0")
        expected.add(name: "grpc-message", value: "all good")
        XCTAssertEqual(whole.0, [
            .message(GRPCMessageFrame(flags: 0, frameOffset: 0, payloadRange: 5..<7)),
            .trailers(GRPCMessageFrame(flags: 0x80, frameOffset: 7, payloadRange: 12..<(12 + trailers.count)),
                      fields: expected),
        ])
        for split in 0...body.count {
            let parts = run([body[..<split], body[split...]], framing: .grpcWeb)
            XCTAssertEqual(parts.0, whole.0, "split at \(split)")
            XCTAssertNil(parts.1, "split at \(split)")
        }
        XCTAssertEqual(run([(body + frame([1]))[...]], framing: .grpcWeb).1, .dataAfterTrailers(offset: body.count))
        XCTAssertEqual(run([frame(Array("no colon".utf8), flags: 0x80)[...]], framing: .grpcWeb).1,
                       .malformedTrailers(frameOffset: 0))
        XCTAssertEqual(run([frame([], flags: 0x81)[...]], framing: .grpcWeb).1, .reservedFlags(0x81, frameOffset: 0))
    }
}
