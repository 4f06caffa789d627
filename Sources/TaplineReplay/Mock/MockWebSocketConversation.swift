/// The server's side of a mocked WebSocket, from the 101 on: which recorded server
/// message goes when, what a live client message is compared with, and how it ends.
/// A pure state machine: events in (`Event`), actions out (`Action`); no I/O, no
/// clock. `MockWebSocketServer` carries the actions out on the connection's loop.
///
/// Rules (the schedule is the flow's `WebSocketReplayScript` played from the server's side):
/// - The server's recorded data messages go in recording order. Each waits for the
///   client messages the recording has before it, then for its recorded gap under the
///   pace (`MockLatency`: `.recorded` keeps the gap, `.none` sends at once, `.fixed`
///   waits that long): an answer goes as soon as the message it answers has arrived
///   (give or take its recorded think time), an unsolicited message (no client message
///   since the previous server message) after its recorded delay.
/// - The k-th live client data message is compared with the k-th recorded one as
///   `tapline diff` compares messages (`BodyComparison`: text JSON-aware, binary by
///   size and hash). A difference is logged (`.log`); with `strict` the server closes
///   with 1008 (policy violation) and plays nothing more.
/// - Failures: a client that breaks the protocol gets 1002, a recorded message that
///   cannot be read 1011 (logged either way), and the server closes the connection at once.
/// - Ending: the recorded server close (code and reason as recorded) is sent once the
///   client messages before it arrived (and, when the recording has the client closing
///   first, once the client's close came). A client that closes earlier gets the
///   recorded close when that is the next step, else its own code echoed (RFC 6455
///   §5.5.1), at once. Once both close frames crossed, `.finish`: the server closes the
///   connection (RFC 6455 §7.1.1). A client that leaves without a close ends it too.
///
/// Invariants: at most one timer runs, always for step `nextStep`; after a close was
/// sent no message is; `.finish` is given once, and no event has an action after it.
///
/// Thread ownership: a value owned by its `MockWebSocketServer`, on that server's loop.
struct MockWebSocketConversation {
    enum Event: Equatable {
        /// The 101 (or 200) went out: the server may speak first.
        case opened
        /// A whole text or binary message from the client, inflated.
        case clientMessage(ComparedBody)
        /// The client's close frame (nil code: an empty close payload).
        case clientClosed(code: UInt16?)
        /// The timer of the last `.startTimer` fired.
        case timerFired
        /// The client's connection ended without a close handshake (or the relay gave up).
        case clientLeft
        /// The client's bytes broke the WebSocket protocol (the decoder's reason).
        case clientBrokeProtocol(String)
        /// The recorded server message at `position` cannot be read from the capture.
        case recordedMessageUnreadable(position: Int, reason: String)
    }

    enum Action: Equatable {
        /// Send the server message at this position of the flow's `webSocketMessages`.
        case send(position: Int)
        case startTimer(milliseconds: Int)
        case cancelTimer
        /// Send a close frame (nil code: an empty close payload).
        case close(code: UInt16?, reason: String)
        /// A line for the live log (a client message that differs from the recording).
        case log(String)
        /// The conversation is over: close the connection once what was sent is delivered
        /// (the client's is gone already after `clientLeft`).
        case finish
    }

    /// RFC 6455 §7.4.1: the endpoint got a message that violates its policy.
    static let policyViolation: UInt16 = 1008

    private let script: WebSocketReplayScript
    /// The client's recorded data messages, in order, as `BodyComparison` compares them.
    private let recordedClientMessages: [ComparedBody]
    private let pace: MockLatency
    private let strict: Bool
    private let comparison = BodyComparison()

    private var nextStep = 0
    private var clientMessages = 0
    /// The step a timer runs for, and the step whose wait is over.
    private var timerStep: Int?
    private var waitedStep: Int?
    private var sentClose = false
    private var clientClosed = false
    private var over = false

    init(script: WebSocketReplayScript, recordedClientMessages: [ComparedBody], pace: MockLatency, strict: Bool) {
        self.script = script
        self.recordedClientMessages = recordedClientMessages
        self.pace = pace
        self.strict = strict
    }

    /// True once the conversation ended (`.finish` was given).
    var isOver: Bool { over }

    mutating func handle(_ event: Event) -> [Action] {
        guard !over else { return [] }
        var actions: [Action] = []
        switch event {
        case .opened:
            advance(&actions)
        case .clientMessage(let body):
            received(body, &actions)
        case .clientClosed(let code):
            closedByClient(code: code, &actions)
        case .timerFired:
            guard let step = timerStep else { break }
            timerStep = nil
            waitedStep = step
            advance(&actions)
        case .clientLeft:
            stopTimer(&actions)
            finish(&actions)
        case .clientBrokeProtocol(let reason):
            give(up: "the WebSocket client broke the protocol (\(reason))", code: 1002, reason: "protocol error", &actions)
        case .recordedMessageUnreadable(let position, let reason):
            give(up: "the recorded WebSocket message \(position + 1) cannot be read from the capture: \(reason)",
                 code: 1011, reason: "the recorded message cannot be read", &actions)
        }
        return actions
    }

    /// Sends every step that is due; stops at the first that waits (for client
    /// messages, the client's close, or its gap's timer).
    private mutating func advance(_ actions: inout [Action]) {
        while !sentClose, nextStep < script.steps.count {
            let step = script.steps[nextStep]
            guard clientMessages >= step.awaitedPeerMessages else { return }
            if case .close(_, _, answering: true) = step.action, !clientClosed { return }
            let wait = pace.milliseconds(recorded: Double(step.gapMicroseconds) / 1_000)
            if wait > 0, waitedStep != nextStep {
                if timerStep != nextStep {
                    timerStep = nextStep
                    actions.append(.startTimer(milliseconds: wait))
                }
                return
            }
            nextStep += 1
            switch step.action {
            case .send(let position):
                actions.append(.send(position: position))
            case .close(let code, let reason, _):
                sendClose(code: code, reason: reason, &actions)
            }
        }
    }

    private mutating func received(_ body: ComparedBody, _ actions: inout [Action]) {
        let index = clientMessages
        clientMessages += 1
        guard !sentClose else { return } // after our close only the client's close matters
        let difference: String?
        if index < recordedClientMessages.count {
            difference = Self.describe(comparison.difference(recordedClientMessages[index], body))
        } else {
            difference = "the recording has only \(recordedClientMessages.count) client message(s)"
        }
        if let difference {
            actions.append(.log("WebSocket client message \(index + 1) differs from the recording: \(difference)"))
            if strict {
                stopTimer(&actions)
                return sendClose(code: Self.policyViolation,
                                 reason: "client message \(index + 1) differs from the recording", &actions)
            }
        }
        advance(&actions)
    }

    private mutating func closedByClient(code: UInt16?, _ actions: inout [Action]) {
        clientClosed = true
        stopTimer(&actions)
        if !sentClose {
            var answer = (code: code, reason: "")
            if nextStep < script.steps.count, case .close(let recordedCode, let reason, _) = script.steps[nextStep].action,
               clientMessages >= script.steps[nextStep].awaitedPeerMessages {
                answer = (recordedCode, reason)
            }
            nextStep = script.steps.count
            sendClose(code: answer.code, reason: answer.reason, &actions)
        }
        finish(&actions)
    }

    /// Logs why, closes with `code` (unless a close went already) and ends the conversation.
    private mutating func give(up why: String, code: UInt16, reason: String, _ actions: inout [Action]) {
        stopTimer(&actions)
        actions.append(.log(why + (sentClose ? "" : "; closing with \(code)")))
        if !sentClose {
            sentClose = true
            actions.append(.close(code: code, reason: reason))
        }
        finish(&actions)
    }

    private mutating func sendClose(code: UInt16?, reason: String, _ actions: inout [Action]) {
        sentClose = true
        actions.append(.close(code: code, reason: reason))
        if clientClosed { finish(&actions) }
    }

    private mutating func finish(_ actions: inout [Action]) {
        guard !over else { return }
        over = true
        actions.append(.finish)
    }

    private mutating func stopTimer(_ actions: inout [Action]) {
        guard timerStep != nil else { return }
        timerStep = nil
        actions.append(.cancelTimer)
    }

    /// One line for the live log: where JSON differs, else what kind of difference; nil
    /// when there is none (equal, or a recording kept only in part whose part is equal).
    private static func describe(_ difference: BodyDifference?) -> String? {
        switch difference {
        case nil: return nil
        case .json(let changes):
            return "JSON differs at " + changes.prefix(5).map {
                "\($0.pointer.text.isEmpty ? "/" : $0.pointer.text) (\($0.kind.rawValue))"
            }.joined(separator: ", ")
        case .form(let fields): return "form fields differ: " + fields.map(\.name).joined(separator: ", ")
        case .text: return "the text differs"
        case .binary(let recorded, let received):
            return "recorded \(recorded.size) bytes sha256 \(recorded.sha256.prefix(16))…, received \(received.size) bytes sha256 \(received.sha256.prefix(16))…"
        case .incomplete(let comparison):
            return comparison.firstDifference.map { "the recording kept only part of the message; they differ at byte \($0)" }
        }
    }
}
