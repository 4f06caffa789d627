import TaplineWire
import XCTest

/// `GRPCMessageFrame.encoded`: the prefix a sender writes, read back by the framer.
final class GRPCMessageFrameEncodingTests: XCTestCase {
    func testEncodedFrameIsFlagLengthPayloadAndFramesBack() throws {
        let payload: [UInt8] = Array(0..<200).map { UInt8($0 % 256) } + [0xFF]
        let frame = GRPCMessageFrame.encoded(payload)
        XCTAssertEqual(Array(frame.prefix(5)), [0x00, 0x00, 0x00, 0x00, 0xC9])
        XCTAssertEqual(Array(frame.dropFirst(5)), payload)

        let body = frame + GRPCMessageFrame.encoded([], flags: GRPCMessageFrame.compressedFlag)
        var framer = GRPCMessageFramer()
        let events = try framer.consume(body)
        XCTAssertEqual(events, [
            .message(GRPCMessageFrame(flags: 0, frameOffset: 0, payloadRange: 5..<206)),
            .message(GRPCMessageFrame(flags: GRPCMessageFrame.compressedFlag, frameOffset: 206, payloadRange: 211..<211)),
        ])
    }
}
