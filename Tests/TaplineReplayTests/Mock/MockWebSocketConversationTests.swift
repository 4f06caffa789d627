import TaplineCapture
import TaplineFlow
@testable import TaplineReplay
import XCTest

/// `MockWebSocketConversation`, Playbook style (mitmproxy's `tutils.Playbook` is the
/// model): one event in, exactly these actions out, rendered as short lines
/// (`"send 2"`, `"timer 300"`, `"close 1000 bye"`), so each test reads as the
/// conversation it pins.
final class MockWebSocketConversationTests: XCTestCase {
    private let opened = Timestamp(microseconds: 1_000_000)

    private func message(_ fromClient: Bool, _ opcode: String, at milliseconds: Int64, _ text: String = "",
                         code: Int? = nil, reason: String? = nil) -> CapturedWebSocketMessage {
        CapturedWebSocketMessage(time: Timestamp(microseconds: 1_000_000 + milliseconds * 1_000), fromClient: fromClient,
                                 opcode: opcode, wireBytes: 4, size: UInt64(text.utf8.count), compressed: false,
                                 closeCode: code, closeReason: reason, inlinePayload: Array(text.utf8))
    }

    /// A machine for `messages` (the client's recorded text as its comparison input).
    private func playbook(_ messages: [CapturedWebSocketMessage], pace: MockLatency = .recorded,
                          strict: Bool = false) -> Playbook {
        let script = WebSocketReplayScript(messages: messages, opened: opened, playing: .server)
        let recordedClient = messages.filter { $0.fromClient && $0.opcode == "text" }
            .map { ComparedBody(bytes: $0.inlinePayload ?? [], origin: .textMessage) }
        return Playbook(machine: MockWebSocketConversation(script: script, recordedClientMessages: recordedClient,
                                                           pace: pace, strict: strict))
    }

    private struct Playbook {
        var machine: MockWebSocketConversation

        mutating func on(_ event: MockWebSocketConversation.Event) -> [String] {
            machine.handle(event).map { action in
                switch action {
                case .send(let position): return "send \(position)"
                case .startTimer(let milliseconds): return "timer \(milliseconds)"
                case .cancelTimer: return "cancel timer"
                case .close(let code, let reason): return ["close", code.map(String.init), reason.isEmpty ? nil : reason]
                    .compactMap { $0 }.joined(separator: " ")
                case .log(let line): return "log " + line
                case .finish: return "finish"
                }
            }
        }

        mutating func client(_ text: String) -> [String] {
            on(.clientMessage(ComparedBody(bytes: Array(text.utf8), origin: .textMessage)))
        }
    }

    /// greeting, then an echo per client message, then the client's close answered as recorded.
    private var echo: [CapturedWebSocketMessage] {
        [message(false, "text", at: 0, "welcome"),
         message(true, "text", at: 10, #"{"a": 1, "b": [1, 2]}"#),
         message(false, "text", at: 10, "echo 1"),
         message(true, "text", at: 20, "two"),
         message(false, "text", at: 20, "echo 2"),
         message(true, "close", at: 30, code: 4000, reason: "client done"),
         message(false, "close", at: 30, code: 4000, reason: "client done")]
    }

    func testEachAnswerWaitsForTheClientMessageBeforeItAndTheCloseIsAnsweredAsRecorded() {
        var book = playbook(echo)
        XCTAssertEqual(book.on(.opened), ["send 0"], "the greeting waits for nothing")
        XCTAssertEqual(book.client(#"{"b": [1, 2.0], "a": 1}"#), ["send 2"], "JSON compared structurally: equal")
        XCTAssertEqual(book.client("two"), ["send 4"])
        XCTAssertEqual(book.on(.clientClosed(code: 4000)), ["close 4000 client done", "finish"])
        XCTAssertEqual(book.client("late"), [], "nothing after the end")
        XCTAssertTrue(book.machine.isOver)
    }

    func testADifferentClientMessageIsLoggedAndTheConversationGoesOn() {
        var book = playbook(echo)
        _ = book.on(.opened)
        XCTAssertEqual(book.client(#"{"a": 2, "b": [1, 2]}"#),
                       ["log WebSocket client message 1 differs from the recording: JSON differs at /a (changed)", "send 2"])
        XCTAssertEqual(book.client("two"), ["send 4"])
        XCTAssertEqual(book.client("three"),
                       ["log WebSocket client message 3 differs from the recording: the recording has only 2 client message(s)"])
    }

    func testStrictClosesWith1008OnADifferentMessageAndEndsOnTheClientsClose() {
        var book = playbook(echo, strict: true)
        _ = book.on(.opened)
        XCTAssertEqual(book.client("one"), ["log WebSocket client message 1 differs from the recording: the text differs",
                                            "close 1008 client message 1 differs from the recording"])
        XCTAssertEqual(book.client("two"), [], "nothing more is played after the close")
        XCTAssertEqual(book.on(.clientClosed(code: 1008)), ["finish"])
    }

    func testAnUnsolicitedMessageWaitsForItsRecordedGapUnlessThePaceIsNone() {
        let ticker = [message(true, "text", at: 5, "subscribe"),
                      message(false, "text", at: 6, "ok"),
                      message(false, "text", at: 306, "tick"),
                      message(false, "close", at: 406, code: 1000, reason: "bye"),
                      message(true, "close", at: 407, code: 1000, reason: "bye")]
        var book = playbook(ticker)
        XCTAssertEqual(book.on(.opened), [], "the answer waits for its client message")
        XCTAssertEqual(book.client("subscribe"), ["timer 1"], "the answer's recorded think time")
        XCTAssertEqual(book.on(.timerFired), ["send 1", "timer 300"])
        XCTAssertEqual(book.on(.timerFired), ["send 2", "timer 100"])
        XCTAssertEqual(book.on(.timerFired), ["close 1000 bye"], "the server's recorded close")
        XCTAssertEqual(book.on(.clientClosed(code: 1000)), ["finish"])

        var atOnce = playbook(ticker, pace: .none)
        XCTAssertEqual(atOnce.on(.opened), [])
        XCTAssertEqual(atOnce.client("subscribe"), ["send 1", "send 2", "close 1000 bye"])

        var fixed = playbook(ticker, pace: .fixed(milliseconds: 50))
        _ = fixed.on(.opened)
        XCTAssertEqual(fixed.client("subscribe"), ["timer 50"])
    }

    func testAClientThatClosesEarlyGetsItsCodeEchoedAndTheTimerStops() {
        let ticker = [message(false, "text", at: 0, "hello"),
                      message(false, "text", at: 1_000, "tick"),
                      message(false, "close", at: 2_000, code: 1001, reason: "going away")]
        var book = playbook(ticker)
        XCTAssertEqual(book.on(.opened), ["send 0", "timer 1000"])
        XCTAssertEqual(book.on(.clientClosed(code: 4001)), ["cancel timer", "close 4001", "finish"])
        XCTAssertEqual(book.on(.timerFired), [])
    }

    func testAClientThatLeavesWithoutACloseEndsItQuietly() {
        var book = playbook([message(false, "text", at: 0, "a"), message(false, "text", at: 500, "b")])
        XCTAssertEqual(book.on(.opened), ["send 0", "timer 500"])
        XCTAssertEqual(book.on(.clientLeft), ["cancel timer", "finish"])
        XCTAssertTrue(book.machine.isOver)
        XCTAssertEqual(book.on(.timerFired), [])
        XCTAssertEqual(book.on(.clientLeft), [], "finished once")
    }

    func testAProtocolViolationCloses1002AndAnUnreadableRecording1011AtOnce() {
        var broken = playbook(echo)
        XCTAssertEqual(broken.on(.opened), ["send 0"])
        XCTAssertEqual(broken.on(.clientBrokeProtocol("an unmasked frame")), [
            "log the WebSocket client broke the protocol (an unmasked frame); closing with 1002",
            "close 1002 protocol error", "finish"])

        var unreadable = playbook(echo)
        XCTAssertEqual(unreadable.on(.recordedMessageUnreadable(position: 0, reason: "segment 1 is missing")), [
            "log the recorded WebSocket message 1 cannot be read from the capture: segment 1 is missing; closing with 1011",
            "close 1011 the recorded message cannot be read", "finish"])
        XCTAssertEqual(unreadable.client("anything"), [])
    }

    func testAServerCloseRecordedFirstIsSentAndTheClientsAnswerFinishes() {
        var book = playbook([message(true, "text", at: 1, "bye?"),
                             message(false, "close", at: 1, code: 1000, reason: "done"),
                             message(true, "close", at: 2, code: 1000)], pace: .none)
        XCTAssertEqual(book.on(.opened), [])
        XCTAssertEqual(book.client("bye?"), ["close 1000 done"])
        XCTAssertEqual(book.client("one more"), [], "a message after the server's close is not compared")
        XCTAssertEqual(book.on(.clientClosed(code: 1000)), ["finish"])
    }

    func testWithoutARecordedServerCloseTheClientsCloseIsEchoed() {
        var book = playbook([message(true, "text", at: 1, "ping"), message(false, "text", at: 1, "pong")], pace: .none)
        _ = book.on(.opened)
        XCTAssertEqual(book.client("ping"), ["send 1"])
        XCTAssertEqual(book.on(.clientClosed(code: nil)), ["close", "finish"], "an empty close echoes an empty close")
    }
}
