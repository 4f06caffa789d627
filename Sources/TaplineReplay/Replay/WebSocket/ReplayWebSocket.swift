import TaplineCapture
import TaplineCompression
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineProxy
import TaplineWire

/// The client side of one replayed WebSocket, from its 101 on: plays the flow's
/// `WebSocketReplayScript` over the connection the handshake's leg handed over
/// (`takeOver`), and records the conversation as the proxy records one.
///
/// - Sending: each step when its awaited server messages have arrived (`--pace none`),
///   or at its recorded offset from the opening scaled by `--speed` (`--pace
///   recorded`; a close still waits for the server messages before it). Frames come
///   from the project's framer (`WebSocketFrameEncoder`, client role: masked); a
///   message recorded compressed is compressed again when the server accepted
///   permessage-deflate (raw DEFLATE, sync flush, `00 00 ff ff` removed, RFC 7692
///   §7.2.1; the window kept unless `client_no_context_takeover`; sent uncompressed,
///   as RFC 7692 allows, when zlib cannot compress with the window the server asked
///   for: 8 bits); a server's ping is answered with a pong.
/// - Recording: both directions go through a `WebSocketTap`, the proxy's decoder of
///   a relayed WebSocket (what this side sends is fed to it as the client's bytes):
///   the same `webSocketMessage` events, inflated the same way.
/// - Waiting: a step that waits for a server message fails the flow as
///   `upstream-timeout` when no server message came for `responseTimeoutMilliseconds`,
///   naming the awaited message as `tapline diff` numbers it (0-based among the
///   server's messages). After the close frames, the server has as long to close TCP.
/// - Ending: once, through `completion`: clean when both close frames crossed (or,
///   with no recorded close, every step was done and the recorded server messages
///   arrived), else with the error. The stream is closed then. Once both close frames
///   crossed, this side ends its half of the stream (FIN, or END_STREAM over HTTP/2,
///   which RFC 8441 §5 makes the stream's TCP close) and waits for the server's end:
///   RFC 6455 §7.1.1 lets the client close after sending and receiving a close, and a
///   server that waits for the client's end before its own (as many HTTP/2 ones do)
///   then ends too.
///
/// The transport is any `ByteStream`: the HTTP/1.1 connection taken over after a 101,
/// or an extended CONNECT's stream (`HTTP2TunnelStream`): one conversation, two transports.
///
/// Thread ownership: confined to the context's loop; owned by its `ReplayExchange`
/// until it ends (the stream holds it as its delegate until it closes).
final class ReplayWebSocket: ByteStreamDelegate {
    private let stream: any ByteStream
    private let script: WebSocketReplayScript
    private let source: CapturedFlow
    private let flowID: FlowID
    /// `host:port` the handshake went to, for error messages.
    private let server: String
    private let context: ReplayContext
    private let recordedPaceSpeed: Double?
    private var tap: WebSocketTap
    private let encoder = WebSocketFrameEncoder(role: .client)
    /// Set when the server accepted permessage-deflate and zlib can compress with its client window.
    private let deflater: WebSocketMessageDeflater?
    private let openedAt: Int64
    private var nextStep = 0
    private var serverMessages = 0
    private var sentClose = false
    /// Pongs owed for the server's pings, written once the tap is done decoding (writing
    /// feeds the tap too, and the tap is not re-entered).
    private var pongs: [[UInt8]] = []
    private var waitTimer: LoopTimer?
    private var paceTimer: LoopTimer?
    private var completion: ((FlowError?) -> Void)?
    private(set) var bytesSent: UInt64 = 0
    private(set) var bytesReceived: UInt64 = 0

    /// - Parameters:
    ///   - response: the server's 101 (its `Sec-WebSocket-Extensions` say what was negotiated).
    ///   - recordedPaceSpeed: `--speed` with `--pace recorded`; nil with `--pace none`.
    init(stream: any ByteStream, response: HTTPResponseHead, script: WebSocketReplayScript, source: CapturedFlow,
         flowID: FlowID, server: String, context: ReplayContext, recordedPaceSpeed: Double?) {
        self.server = server
        self.stream = stream
        self.script = script
        self.source = source
        self.flowID = flowID
        self.context = context
        self.recordedPaceSpeed = recordedPaceSpeed
        tap = WebSocketTap(handshakeResponse: response)
        let deflate = try? PerMessageDeflateParameters.negotiated(responseHeaders: response.headers)
        deflater = deflate.flatMap { WebSocketMessageDeflater($0, role: .client) }
        openedAt = Self.now()
    }

    private static func now() -> Int64 { Int64(MonotonicClock.nanoseconds() / 1_000) }

    /// Starts the conversation; `unparsed` are the bytes the server sent after its 101.
    func start(unparsed: [UInt8], completion: @escaping (FlowError?) -> Void) {
        self.completion = completion
        stream.delegate = self
        if !unparsed.isEmpty { received(unparsed[...]) }
        advance()
    }

    /// Gives up (the flow failed elsewhere): closes the connection, no completion.
    func cancel() {
        completion = nil
        end(nil)
    }

    // MARK: Steps

    /// Performs every step that is due, then waits (for server messages or the pace timer).
    private func advance() {
        guard completion != nil else { return }
        while nextStep < script.steps.count {
            let step = script.steps[nextStep]
            let isClose: Bool
            if case .close = step.action { isClose = true } else { isClose = false }
            if recordedPaceSpeed == nil || isClose, serverMessages < step.awaitedPeerMessages {
                return awaitServerMessage(before: step)
            }
            if case .close(_, _, answering: true) = step.action, tap.closeHandshake.serverClose == nil {
                return awaitServerMessage(before: step)
            }
            if let speed = recordedPaceSpeed {
                let due = openedAt + Int64(Double(step.offsetMicroseconds) / speed)
                let now = Self.now()
                if now < due {
                    paceTimer?.cancel()
                    paceTimer = context.loop.scheduleTimer(milliseconds: Int((due - now + 999) / 1_000)) { [weak self] in
                        self?.advance()
                    }
                    return
                }
            }
            nextStep += 1
            perform(step)
            guard completion != nil else { return }
        }
        waitTimer?.cancel()
        waitTimer = nil
        if !sentClose {
            // No recorded client close: done once the server's recorded messages are in.
            if serverMessages < script.expectedPeerMessages { return awaitServerMessage(before: nil) }
            return finish(nil)
        }
        if tap.closeHandshake.isComplete {
            stream.shutdownWrite()
            armWait("close the connection after the close handshake")
        } else {
            armWait("answer the close frame")
        }
    }

    private func perform(_ step: WebSocketReplayStep) {
        switch step.action {
        case .send(let position):
            let message = source.webSocketMessages[position]
            let payload: [UInt8]
            do {
                payload = try message.payload(sessionDirectory: source.requestBody.sessionDirectory)
            } catch {
                return finish(FlowError(.badRequest, "flow \(source.id): its WebSocket message \(position + 1) cannot be read: \(error)"))
            }
            sendMessage(message.opcode == "binary" ? .binary : .text, payload: payload, compress: message.compressed)
        case .close(let code, let reason, _):
            sentClose = true
            write(encoder.closeFrame(WebSocketClosePayload(code: code, reason: reason)))
        }
    }

    private func sendMessage(_ opcode: WebSocketOpcode, payload: [UInt8], compress: Bool) {
        guard compress, let deflater else { return write(encoder.frame(opcode, payload: payload)) }
        write(deflater.frame(opcode, payload: payload, encoder: encoder))
    }

    /// Writes a frame and records it through the tap, as the client's bytes.
    private func write(_ frame: [UInt8]) {
        bytesSent += UInt64(frame.count)
        stream.write(frame)
        tap.receive(frame[...], fromClient: true, output: record)
    }

    // MARK: Waiting

    /// Waits for the server's next message (or its close), which `step` (nil: the end) needs first.
    private func awaitServerMessage(before step: WebSocketReplayStep?) {
        let awaited = "its message \(serverMessages) (0-based among the server's messages)"
        let missing = serverMessages < (step?.awaitedPeerMessages ?? script.expectedPeerMessages)
        switch step?.action {
        case .send(let position)? where missing:
            let clientIndex = source.webSocketMessages[..<position]
                .filter { $0.fromClient && ($0.opcode == "text" || $0.opcode == "binary") }.count
            armWait("send \(awaited), which the recording has before the client's message \(clientIndex)")
        case .close? where missing:
            armWait("send \(awaited), which the recording has before the client's close")
        case .close(_, _, answering: true)?:
            armWait("send its close frame, which the recording has before the client's")
        default:
            armWait("send \(awaited)")
        }
    }

    /// Fails the flow as `upstream-timeout` unless the server does `what` (re-armed on each server message).
    private func armWait(_ what: String) {
        waitTimer?.cancel()
        let seconds = context.responseTimeoutMilliseconds / 1000
        let hostPort = server
        waitTimer = context.loop.scheduleTimer(milliseconds: context.responseTimeoutMilliseconds) { [weak self] in
            self?.finish(FlowError(.upstreamTimeout, "the WebSocket server (\(hostPort)) did not \(what) within \(seconds) s"))
        }
    }

    // MARK: Received

    private func received(_ bytes: ArraySlice<UInt8>) {
        bytesReceived += UInt64(bytes.count)
        tap.receive(bytes, fromClient: false, output: record)
        let due = pongs
        pongs = []
        for frame in due { write(frame) }
        if tap.closeHandshake.serverClose != nil { answerServerClose() }
        if let failure = tap.serverFailure {
            return finish(FlowError(.badResponse, "the WebSocket server broke the protocol: \(failure)"))
        }
        advance()
    }

    private func record(_ output: WebSocketTapOutput) {
        switch output {
        case .payloadPiece(let fromClient, let bytes):
            context.sink.record(.webSocketPayload(flow: flowID, fromClient: fromClient, bytes: bytes))
            context.recorded()
        case .message(let message):
            context.record(.webSocketMessage(flow: flowID, message: message, time: Timestamp.now()))
            guard !message.fromClient else { return }
            switch message.opcode {
            case .text, .binary:
                serverMessages += 1
                waitTimer?.cancel()
                waitTimer = nil
            case .ping:
                pongs.append(encoder.frame(.pong, payload: message.payload))
            case .close, .pong:
                break // a close is answered once the tap is done (`received`)
            }
        }
    }

    /// The server sent its close frame, so it sends nothing more: the client's close goes
    /// now (RFC 6455 §5.5.1), as recorded when it is the next step, else echoing the
    /// server's code (the server closed earlier than recorded; the diff shows what is missing).
    private func answerServerClose() {
        guard !sentClose else { return }
        var close = WebSocketClosePayload(code: tap.closeHandshake.serverClose?.code)
        if nextStep < script.steps.count, case .close(let code, let reason, _) = script.steps[nextStep].action {
            close = WebSocketClosePayload(code: code, reason: reason)
        }
        nextStep = script.steps.count
        sentClose = true
        write(encoder.closeFrame(close))
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        received(bytes)
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        serverLeft(nil)
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {}

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        serverLeft(error)
    }

    /// The server closed the connection: clean after both close frames, else the flow fails.
    private func serverLeft(_ error: (any Error)?) {
        guard completion != nil else { return }
        if tap.closeHandshake.isComplete || (sentClose && tap.closeHandshake.serverClose != nil) {
            return finish(nil)
        }
        let reason = error.map { " (\($0))" } ?? ""
        let missing = serverMessages < script.expectedPeerMessages
            ? " before its message \(serverMessages) (0-based among the server's messages)" : " without a close frame"
        finish(FlowError(.upstreamAborted, "the WebSocket server (\(server)) closed the connection\(missing)\(reason)"))
    }

    // MARK: End

    private func finish(_ error: FlowError?) {
        guard let completion else { return }
        self.completion = nil
        end(error)
        completion(error)
    }

    private func end(_ error: FlowError?) {
        waitTimer?.cancel()
        waitTimer = nil
        paceTimer?.cancel()
        paceTimer = nil
        if error == nil { stream.closeAfterFlush() } else { stream.close() }
    }
}
