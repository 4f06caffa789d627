import TaplineCapture
import TaplineFlow
@testable import TaplineReplay
import XCTest

/// The message schedule of a WebSocket replay and mock: which message waits for which
/// of the peer's, what the close does, and the offsets and gaps the players use.
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
            WebSocketReplayStep(action: .send(position: 1), awaitedPeerMessages: 1, offsetMicroseconds: 2_000,
                                gapMicroseconds: 1_000),
            WebSocketReplayStep(action: .send(position: 3), awaitedPeerMessages: 2, offsetMicroseconds: 4_000,
                                gapMicroseconds: 1_000),
            WebSocketReplayStep(action: .send(position: 4), awaitedPeerMessages: 2, offsetMicroseconds: 5_000,
                                gapMicroseconds: 1_000),
            WebSocketReplayStep(action: .close(code: 4000, reason: "done", answering: false), awaitedPeerMessages: 4,
                                offsetMicroseconds: 9_000, gapMicroseconds: 2_000),
        ])
        XCTAssertEqual(script.expectedPeerMessages, 4)
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
            WebSocketReplayStep(action: .send(position: 0), awaitedPeerMessages: 0, offsetMicroseconds: 1_000,
                                gapMicroseconds: 1_000),
            WebSocketReplayStep(action: .close(code: 1001, reason: "", answering: true), awaitedPeerMessages: 1,
                                offsetMicroseconds: 5_000, gapMicroseconds: 1_000),
        ])
    }

    func testWithoutARecordedCloseTheScriptEndsAfterTheLastMessage() {
        let script = WebSocketReplayScript(messages: [message(true, "text", at: 1), message(false, "text", at: 2)],
                                           opened: opened)
        XCTAssertEqual(script.steps.map(\.action), [.send(position: 0)])
        XCTAssertEqual(script.expectedPeerMessages, 1)
    }

    func testAnEmptyCloseHasNoCodeAndMessagesBeforeTheOpeningHaveOffsetZero() {
        let script = WebSocketReplayScript(messages: [message(true, "close", at: -5)], opened: opened)
        XCTAssertEqual(script.steps, [WebSocketReplayStep(action: .close(code: nil, reason: "", answering: false),
                                                          awaitedPeerMessages: 0, offsetMicroseconds: 0)])
    }

    /// The mock plays the server's side with the same rules: a greeting waits for
    /// nothing, an answer for the client message before it, and an unsolicited push
    /// keeps its recorded gap after the message before it.
    func testTheServerSideIsScheduledWithTheSameRules() {
        let script = WebSocketReplayScript(messages: [
            message(false, "text", at: 5),   // 0: greeting
            message(true, "text", at: 7),    // 1
            message(false, "text", at: 8),   // 2: its answer
            message(false, "text", at: 308), // 3: unsolicited, 300 ms later
            message(true, "close", at: 400, code: 1000, reason: "bye"),
            message(false, "close", at: 401, code: 1000, reason: "bye"),
        ], opened: opened, playing: .server)
        XCTAssertEqual(script.steps, [
            WebSocketReplayStep(action: .send(position: 0), awaitedPeerMessages: 0, offsetMicroseconds: 5_000,
                                gapMicroseconds: 5_000),
            WebSocketReplayStep(action: .send(position: 2), awaitedPeerMessages: 1, offsetMicroseconds: 8_000,
                                gapMicroseconds: 1_000),
            WebSocketReplayStep(action: .send(position: 3), awaitedPeerMessages: 1, offsetMicroseconds: 308_000,
                                gapMicroseconds: 300_000),
            WebSocketReplayStep(action: .close(code: 1000, reason: "bye", answering: true), awaitedPeerMessages: 1,
                                offsetMicroseconds: 401_000, gapMicroseconds: 1_000),
        ])
        XCTAssertEqual(script.expectedPeerMessages, 1)
    }
}
