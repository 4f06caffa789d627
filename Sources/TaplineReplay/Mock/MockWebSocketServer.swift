import TaplineCapture
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineProxy
import TaplineWire

/// The server end of a mocked WebSocket: the `ByteStream` a `RecordedResponseLeg`
/// hands over after its 101 (`takeOver`), which the proxy's relay (`WebSocketRelay`,
/// directly or behind the HTTP/2 bridge) then treats as the upstream connection. So the
/// client's bytes reach it through the relay, which records the conversation as it
/// records a live one (`--capture`).
///
/// It is the I/O shell of a `MockWebSocketConversation`: the client's bytes (what the
/// relay writes) are decoded by a `WebSocketTap` (frames joined, permessage-deflate
/// undone, close frames tracked) into the machine's events; its actions become frames
/// from the project's framer (`WebSocketFrameEncoder`, server role: unmasked), deflated
/// by a `WebSocketMessageDeflater` (`ZlibDeflater`) when permessage-deflate was accepted
/// and the message was recorded compressed (sent uncompressed, as RFC 7692 allows, when
/// zlib cannot compress with the window the client asked for: 8 bits), loop timers, and
/// log lines. A client ping is answered with a pong.
///
/// Delivery: what the server says reaches the relay from a loop turn of its own (never
/// inside the relay's `write`), and only while the relay has not paused reading (a slow
/// client holds the mock back as it would hold a real server back). The outbox takes
/// what is said until it holds `outboxLimit` bytes; past that, what is said waits in
/// order in a `MockWebSocketBacklog`, a recorded message as its position, read from
/// the capture once the relay has taken the outbox. When the conversation is over, the
/// relay hears EOF and then the close.
///
/// Memory: the client's recorded messages (each at most `MockSessionLoader.requestBodyLimit`
/// bytes), one live client message, the outbox (below `outboxLimit` plus the frame
/// that crossed it: one recorded message, however large), and the backlog (a position
/// per recorded message, the close, and one pong: a ping flood is answered by the pong
/// of its latest ping). A client that does not read does not make the mock read the rest
/// of the recording.
///
/// Thread ownership: confined to `loop`; owned by the relay it was handed to (its
/// `upstream`); its timer callbacks hold it weakly, so it goes with the relay.
final class MockWebSocketServer: ByteStream, ByteStreamTransport {
    weak var delegate: (any ByteStreamDelegate)?
    var transport: any ByteStreamTransport { self }
    let loop: EventLoop
    let localAddress = SocketAddress.unspecified(.ipv4)
    let remoteAddress = SocketAddress.unspecified(.ipv4)
    private(set) var bytesRead: UInt64 = 0
    private(set) var bytesWritten: UInt64 = 0
    var isWritable: Bool { true }
    var coalescesSmallWrites: Bool { true }

    private let answer: MockWebSocketAnswer
    private let log: (String) -> Void
    private var conversation: MockWebSocketConversation
    private var tap: WebSocketTap
    private let encoder = WebSocketFrameEncoder(role: .server)
    /// Set when permessage-deflate was accepted and zlib can compress with the server's window.
    private let deflater: WebSocketMessageDeflater?
    /// Pieces of the client's message being streamed out of the tap (a message over its held size).
    private var clientPieces: [UInt8] = []
    private var timer: LoopTimer?
    /// Said and not yet delivered to the relay.
    private var outbox: [UInt8] = []
    /// Said after the outbox reached `outboxLimit`: taken into it, in order, as it is delivered.
    private var backlog = MockWebSocketBacklog()
    /// The outbox bytes past which what is said waits in the backlog.
    static let outboxLimit = 1 << 20
    private var deliveryScheduled = false
    private var paused = false
    /// The conversation ended: once `outbox` is delivered the relay hears EOF and the close.
    private var finishing = false
    private var closed = false

    /// - Parameter log: one line for the live log (a client message that differs).
    init(loop: EventLoop, answer: MockWebSocketAnswer, log: @escaping (String) -> Void) {
        self.loop = loop
        self.answer = answer
        self.log = log
        tap = WebSocketTap(handshakeResponse: answer.head)
        deflater = answer.deflate.flatMap { WebSocketMessageDeflater($0, role: .server) }
        let flow = answer.flow
        let script = WebSocketReplayScript(messages: flow.webSocketMessages, opened: flow.responseTime ?? flow.started,
                                           playing: .server)
        conversation = MockWebSocketConversation(script: script, recordedClientMessages: Self.clientMessages(of: flow),
                                                 pace: answer.pace, strict: answer.strict)
        // The server may speak first: from the next loop turn, once the relay has taken this stream.
        _ = loop.scheduleTimer(milliseconds: 0) { [weak self] in
            guard let self else { return }
            self.carryOut(self.conversation.handle(.opened))
        }
    }

    /// The client's recorded text and binary messages as `BodyComparison` compares them.
    private static func clientMessages(of flow: CapturedFlow) -> [ComparedBody] {
        flow.webSocketMessages.filter { $0.fromClient && ($0.opcode == "text" || $0.opcode == "binary") }.map { message in
            let origin: ComparedBody.Origin = message.opcode == "text" ? .textMessage : .binaryMessage
            let limit = MockSessionLoader.requestBodyLimit
            guard let bytes = try? message.payload(sessionDirectory: flow.requestBody.sessionDirectory, limit: limit) else {
                return ComparedBody(bytes: [], incompleteReason: "its payload cannot be read from the capture", origin: origin)
            }
            let whole = !message.truncated && !message.undecoded && UInt64(bytes.count) >= message.storedBytes
            return ComparedBody(bytes: bytes, incompleteReason: whole ? nil : "only its first \(bytes.count) bytes were compared",
                                origin: origin)
        }
    }

    // MARK: The machine's actions

    private func carryOut(_ actions: [MockWebSocketConversation.Action]) {
        for action in actions {
            switch action {
            case .send(let position):
                send(position)
            case .startTimer(let milliseconds):
                timer?.cancel()
                timer = loop.scheduleTimer(milliseconds: milliseconds) { [weak self] in
                    guard let self else { return }
                    self.timer = nil
                    self.carryOut(self.conversation.handle(.timerFired))
                }
            case .cancelTimer:
                timer?.cancel()
                timer = nil
            case .close(let code, let reason):
                say(encoder.closeFrame(WebSocketClosePayload(code: code, reason: reason)))
            case .log(let line):
                log("\(answer.name): \(line)")
            case .finish:
                finishing = true
                scheduleDelivery()
            }
        }
    }

    /// Sends the recorded server message at `position`, compressed again when it was
    /// recorded so; behind what waits, or when the outbox is full, it waits as its position.
    private func send(_ position: Int) {
        guard !closed else { return }
        guard backlog.isEmpty, outbox.count < Self.outboxLimit else { return backlog.append(.recordedMessage(position)) }
        guard let frame = recordedFrame(position) else { return }
        outbox += frame
        scheduleDelivery()
    }

    /// The frame of the recorded server message at `position`, its payload read from the
    /// capture; nil when it cannot be read (the conversation is told, and gives up).
    private func recordedFrame(_ position: Int) -> [UInt8]? {
        let message = answer.flow.webSocketMessages[position]
        let payload: [UInt8]
        do {
            payload = try message.payload(sessionDirectory: answer.flow.requestBody.sessionDirectory)
        } catch {
            carryOut(conversation.handle(.recordedMessageUnreadable(position: position, reason: "\(error)")))
            return nil
        }
        let opcode: WebSocketOpcode = message.opcode == "binary" ? .binary : .text
        guard message.compressed, let deflater else { return encoder.frame(opcode, payload: payload) }
        return deflater.frame(opcode, payload: payload, encoder: encoder)
    }

    /// Says a frame made here (a pong, the close): behind what waits, or when the outbox
    /// is full, it waits in the backlog (a pong in the place of the one waiting there, if
    /// one is: `MockWebSocketBacklog.appendPong`).
    private func say(_ frame: [UInt8], isPong: Bool = false) {
        guard !closed else { return }
        guard backlog.isEmpty, outbox.count < Self.outboxLimit else {
            return isPong ? backlog.appendPong(frame) : backlog.append(.frame(frame))
        }
        outbox += frame
        scheduleDelivery()
    }

    /// Moves what waits in the backlog into the outbox, in order, until the outbox is full.
    private func fillOutbox() {
        while outbox.count < Self.outboxLimit, !closed, let entry = backlog.popFirst() {
            switch entry {
            case .recordedMessage(let position): if let frame = recordedFrame(position) { outbox += frame }
            case .frame(let frame): outbox += frame
            }
        }
    }

    private func scheduleDelivery() {
        guard !deliveryScheduled, !paused, !closed else { return }
        deliveryScheduled = true
        _ = loop.scheduleTimer(milliseconds: 0) { [weak self] in
            guard let self else { return }
            self.deliveryScheduled = false
            self.deliver()
        }
    }

    /// Hands the relay what was said (an outbox at most; the rest from a turn of its own,
    /// unless the relay paused meanwhile); after the end, EOF and the close.
    private func deliver() {
        guard !paused, !closed, let delegate else { return }
        fillOutbox()
        if !outbox.isEmpty {
            let bytes = outbox
            outbox = []
            bytesRead += UInt64(bytes.count)
            delegate.stream(self, didRead: bytes[...])
            if !backlog.isEmpty { return scheduleDelivery() }
        }
        guard finishing, outbox.isEmpty, backlog.isEmpty, !paused, !closed else { return }
        closed = true
        timer?.cancel()
        timer = nil
        delegate.streamDidReadEOF(self)
        delegate.stream(self, didCloseWith: nil)
    }

    // MARK: The client's bytes (ByteStream, written by the relay)

    func write(_ bytes: some Collection<UInt8>) {
        guard !closed else { return }
        let received = Array(bytes)
        bytesWritten += UInt64(received.count)
        var events: [MockWebSocketConversation.Event] = []
        var pongs: [[UInt8]] = []
        tap.receive(received[...], fromClient: true) { output in
            switch output {
            case .payloadPiece(_, let piece):
                if clientPieces.count + piece.count <= MockSessionLoader.requestBodyLimit { clientPieces += piece }
            case .message(let message):
                switch message.opcode {
                case .text, .binary:
                    let payload = message.streamedPayloadSize == nil ? message.payload : clientPieces
                    clientPieces = []
                    events.append(.clientMessage(ComparedBody(bytes: payload,
                                                              origin: message.opcode == .text ? .textMessage : .binaryMessage)))
                case .close:
                    let close = try? WebSocketClosePayload(parsing: message.payload)
                    events.append(.clientClosed(code: close?.code))
                case .ping:
                    pongs.append(encoder.frame(.pong, payload: message.payload))
                case .pong:
                    break
                }
            }
        }
        for pong in pongs { say(pong, isPong: true) }
        for event in events { carryOut(conversation.handle(event)) }
        if let failure = tap.clientFailure { carryOut(conversation.handle(.clientBrokeProtocol(failure))) }
    }

    func pauseReading() {
        paused = true
    }

    func resumeReading() {
        guard paused else { return }
        paused = false
        if !outbox.isEmpty || !backlog.isEmpty || finishing { scheduleDelivery() }
    }

    /// The client's EOF, passed on by the relay: the conversation is over.
    func shutdownWrite() {
        carryOut(conversation.handle(.clientLeft))
    }

    func closeAfterFlush() {
        close()
    }

    /// The relay is done with this stream: it hears the close once, from a loop turn of its own.
    func close() {
        guard !closed else { return }
        carryOut(conversation.handle(.clientLeft)) // its `.finish` is not delivered: closed first
        closed = true
        outbox = []
        backlog.removeAll()
        timer?.cancel()
        timer = nil
        _ = loop.scheduleTimer(milliseconds: 0) { [weak self] in
            guard let self, let delegate = self.delegate else { return }
            delegate.stream(self, didCloseWith: nil)
        }
    }
}
