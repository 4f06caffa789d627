import TaplineCapture
import TaplineFlow
@testable import TaplineReplay
import XCTest

/// The message schedule of a WebSocket replay: which client message waits for which
/// server message, what the close does, and the offsets `--pace recorded` uses.
final class WebSocketReplayScriptTests: XCTestCase {
    private let opened = Timestamp(microseconds: 1_000_000)

    private func message(_ fromClient: Bool, _ opcode: String, at milliseconds: Int64,
                         code: Int? = nil, reason: String? = nil) -> CapturedWebSocketMessage {
        CapturedWebSocketMessage(time: Timestamp(microseconds: 1_000_000 + milliseconds * 1_000), fromClient: fromClient,
                                 opcode: opcode, wireBytes: 4, size: 2, compressed: false, closeCode: code,
                                 closeReason: reason, inlinePayload: [0x68, 0x69])
    }

    func testEachClientMessageWaitsForTheServerMessagesRecordedBeforeIt() {
        let script = WebSocketReplayScript(messages: [
            message(false, "text", at: 1),   // 0: greeting
            message(true, "text", at: 2),    // 1
            message(false, "text", at: 3),   // 2: its echo
            message(true, "binary", at: 4),  // 3
            message(true, "text", at: 5),    // 4: sent before the echo of 3 came
            message(false, "binary", at: 6), // 5
            message(false, "text", at: 7),   // 6
            message(true, "close", at: 9, code: 4000, reason: "done"), // 7
            message(false, "close", at: 10, code: 4000, reason: "done"),
        ], opened: opened)
        XCTAssertEqual(script.steps, [
            WebSocketReplayStep(action: .send(position: 1), awaitedServerMessages: 1, offsetMicroseconds: 2_000),
            WebSocketReplayStep(action: .send(position: 3), awaitedServerMessages: 2, offsetMicroseconds: 4_000),
            WebSocketReplayStep(action: .send(position: 4), awaitedServerMessages: 2, offsetMicroseconds: 5_000),
            WebSocketReplayStep(action: .close(code: 4000, reason: "done", answering: false), awaitedServerMessages: 4,
                                offsetMicroseconds: 9_000),
        ])
        XCTAssertEqual(script.expectedServerMessages, 4)
    }

    func testPingsAndPongsAreNotReplayedAndAServerCloseIsAnswered() {
        let script = WebSocketReplayScript(messages: [
            message(true, "text", at: 1),
            message(false, "ping", at: 2),
            message(true, "pong", at: 2),
            message(false, "text", at: 3),
            message(false, "close", at: 4, code: 1001, reason: "going away"),
            message(true, "close", at: 5, code: 1001),
        ], opened: opened)
        XCTAssertEqual(script.steps, [
            WebSocketReplayStep(action: .send(position: 0), awaitedServerMessages: 0, offsetMicroseconds: 1_000),
            WebSocketReplayStep(action: .close(code: 1001, reason: "", answering: true), awaitedServerMessages: 1,
                                offsetMicroseconds: 5_000),
        ])
    }

    func testWithoutARecordedCloseTheScriptEndsAfterTheLastMessage() {
        let script = WebSocketReplayScript(messages: [message(true, "text", at: 1), message(false, "text", at: 2)],
                                           opened: opened)
        XCTAssertEqual(script.steps.map(\.action), [.send(position: 0)])
        XCTAssertEqual(script.expectedServerMessages, 1)
    }

    func testAnEmptyCloseHasNoCodeAndMessagesBeforeTheOpeningHaveOffsetZero() {
        let script = WebSocketReplayScript(messages: [message(true, "close", at: -5)], opened: opened)
        XCTAssertEqual(script.steps, [WebSocketReplayStep(action: .close(code: nil, reason: "", answering: false),
                                                          awaitedServerMessages: 0, offsetMicroseconds: 0)])
    }
}
