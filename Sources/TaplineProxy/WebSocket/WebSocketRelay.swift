import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Relays a WebSocket connection after its opening handshake: bytes are forwarded
/// both ways exactly as received (a compressed stream is never re-framed), and a
/// copy of each direction goes through a `WebSocketTap` so every message and
/// control frame is recorded as a `webSocketMessage` event.
///
/// Backpressure as in `TunnelRelay`: a side is not read while the other cannot
/// take more, nor while the recorder is backed up. Half-closes are passed on.
/// Decoding the copy for the capture is bounded too: at most
/// `inflationBudgetPerTurn` bytes are inflated per turn; a message that inflates to
/// more goes on in a later loop turn (after the recorder drained, when it is backed
/// up), and neither side is read meanwhile: bytes that arrive are decoded after it, so
/// the capture keeps the order of messages across both directions. Bytes are relayed
/// before they are decoded, so this never delays what was already received.
///
/// Ending: the flow ends when either connection closes (the other is then closed
/// after its queued bytes are written). It is clean when the side that closed
/// first had sent a close frame; otherwise its error says who vanished and whether
/// mid-message. After a close frame, the other side has `timeouts.webSocketClose`
/// to answer with its own; after both, the server has as long to close TCP. When
/// the time is up both connections are closed, so nothing hangs.
///
/// The two sides are any `ByteStream`s: an HTTP/1.1 connection after 101, or
/// (RFC 8441) an HTTP/2 extended-CONNECT stream wrapped as an `HTTP2TunnelStream`.
/// `ownsClientConnection` is true when the client stream is a whole client
/// connection this relay owns (it then reports the connection's close to the
/// context); an HTTP/2 stream's connection stays owned by its HTTP/2 handler.
///
/// Thread ownership: confined to `context.loop`. Retained by the context's registry
/// (HTTP/1.1) or by the handler that created it, until the flow ends.
final class WebSocketRelay: ClientHandler, StreamPairRelay {
    private let context: ProxyContext
    private let info: ClientConnectionInfo
    private let flow: FlowID
    private let timings: FlowTimingsBox
    let client: any ByteStream
    let upstream: any ByteStream
    private let ownsClientConnection: Bool
    private var tap: WebSocketTap
    private var counts = RelayByteCounts()
    private var ended = false
    private var clientPausedByPeer = false
    private var upstreamPausedByPeer = false
    private var pausedForRecorder = false
    private var closeTimer: LoopTimer?
    /// The close-handshake state the timer was armed for (re-armed when it advances).
    private var timerArmedForComplete = false
    /// The side whose EOF or close came first: the one that left, for the flow's error.
    private var clientLeftFirst: Bool?
    /// A later turn is scheduled to go on decoding the capture's copy.
    private var decodingScheduled = false

    /// Most bytes inflated for the capture in one turn of the loop.
    static let inflationBudgetPerTurn = 1 << 20

    init(context: ProxyContext, info: ClientConnectionInfo, flow: FlowID, timings: FlowTimingsBox,
         client: any ByteStream, upstream: any ByteStream, tap: WebSocketTap, ownsClientConnection: Bool = true) {
        self.context = context
        self.info = info
        self.flow = flow
        self.timings = timings
        self.client = client
        self.upstream = upstream
        self.tap = tap
        self.ownsClientConnection = ownsClientConnection
    }

    func relay(_ bytes: ArraySlice<UInt8>, from source: any ByteStream) {
        let fromClient = source === client
        counts.add(bytes.count, fromClient: fromClient, timings: timings)
        let destination = other(source)
        destination.write(bytes)
        if !destination.isWritable {
            if fromClient { clientPausedByPeer = true } else { upstreamPausedByPeer = true }
        }
        guard !ended else { return }
        decodeCopy(of: bytes, fromClient: fromClient)
        updateCloseTimer()
        if !pausedForRecorder, context.recorderIsBackedUp {
            pausedForRecorder = true
            context.whenRecorderDrained { [weak self] in
                guard let self else { return }
                self.pausedForRecorder = false
                self.updateReadInterest()
            }
        }
        updateReadInterest()
    }

    private func updateReadInterest() {
        let decodingBehind = !ended && tap.isBehind
        if pausedForRecorder || clientPausedByPeer || decodingBehind { client.pauseReading() } else { client.resumeReading() }
        if pausedForRecorder || upstreamPausedByPeer || decodingBehind { upstream.pauseReading() } else { upstream.resumeReading() }
    }

    /// Decodes the capture's copy of `bytes` (nil: goes on with what the tap holds) and
    /// records what comes out; schedules the rest when the turn's budget ran out.
    private func decodeCopy(of bytes: ArraySlice<UInt8>?, fromClient: Bool = false) {
        let flow = self.flow, context = self.context
        let record = { (output: WebSocketTapOutput) in
            switch output {
            case .message(let message):
                context.record(.webSocketMessage(flow: flow, message: message, time: .now()))
            case .payloadPiece(let fromClient, let piece):
                context.record(.webSocketPayload(flow: flow, fromClient: fromClient, bytes: piece))
            }
        }
        let done = if let bytes {
            tap.receive(bytes, fromClient: fromClient, inflationBudget: Self.inflationBudgetPerTurn, output: record)
        } else {
            tap.decode(inflationBudget: Self.inflationBudgetPerTurn, output: record)
        }
        if !done { scheduleDecoding() }
    }

    /// Goes on decoding the copy in a later turn: once the recorder has drained when it
    /// is backed up, else as soon as the loop has served the other connections.
    private func scheduleDecoding() {
        if decodingScheduled { return }
        decodingScheduled = true
        let resume = { [weak self] in
            guard let self else { return }
            self.decodingScheduled = false
            guard !self.ended else { return }
            self.decodeCopy(of: nil)
            self.updateCloseTimer()
            self.updateReadInterest()
        }
        if context.recorderIsBackedUp {
            context.whenRecorderDrained(resume)
        } else {
            let me = LoopBound(resume, loop: context.loop)
            context.loop.execute { me.value() }
        }
    }

    /// Arms the close timer when a close frame is waiting for its answer, and again
    /// (for the TCP close) once the handshake is complete.
    private func updateCloseTimer() {
        let handshake = tap.closeHandshake
        guard handshake.initiator != nil else { return }
        if closeTimer != nil, timerArmedForComplete == handshake.isComplete { return }
        closeTimer?.cancel()
        timerArmedForComplete = handshake.isComplete
        let timeout = context.configuration.timeouts.webSocketClose
        closeTimer = context.loop.scheduleTimer(milliseconds: timeout) { [weak self] in
            self?.closeTimedOut(after: timeout)
        }
    }

    private func closeTimedOut(after timeout: Int) {
        closeTimer = nil
        let handshake = tap.closeHandshake
        var error: FlowError?
        if let silent = handshake.awaitingAnswerFrom {
            let who = silent == .client ? "the client" : "the server"
            let initiator = silent == .client ? "server" : "client"
            error = FlowError(silent == .client ? .clientTimeout : .upstreamTimeout,
                              "\(who) did not answer the \(initiator)'s WebSocket close frame within \(TimeoutText.seconds(timeout)); both connections were closed")
        }
        end(error: error)
        upstream.close()
        client.close()
    }

    /// The flow's error once a connection closed, given which side left first and what the tap saw.
    private func closeError(closing: any ByteStream, socketError: (any Error)?) -> FlowError? {
        if let socketError {
            let isClient = closing === client
            return FlowError(isClient ? .clientAborted : .upstreamAborted,
                             "the \(isClient ? "client" : "server") connection failed: \(socketError)")
        }
        let clientLeft = clientLeftFirst ?? (closing === client)
        let handshake = tap.closeHandshake
        if clientLeft ? handshake.clientClose != nil : handshake.serverClose != nil { return protocolFailure() }
        let whereText = tap.isInsideMessage(fromClient: clientLeft) ? " in the middle of a message" : ""
        return FlowError(clientLeft ? .clientAborted : .upstreamAborted,
                         "the \(clientLeft ? "client" : "server") closed the connection\(whereText) without a WebSocket close frame (abnormal closure, 1006)")
    }

    /// A protocol violation seen while decoding, reported when the flow otherwise ended cleanly.
    private func protocolFailure() -> FlowError? {
        if let failure = tap.clientFailure { return FlowError(.badRequest, "the client broke the WebSocket protocol: \(failure)") }
        if let failure = tap.serverFailure { return FlowError(.badResponse, "the server broke the WebSocket protocol: \(failure)") }
        return nil
    }

    private func end(error: FlowError?) {
        guard !ended else { return }
        ended = true
        closeTimer?.cancel()
        closeTimer = nil
        context.record(counts.endEvent(flow: flow, timings: timings, error: error))
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        relay(bytes, from: stream)
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        if clientLeftFirst == nil { clientLeftFirst = stream === client }
        other(stream).shutdownWrite()
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        guard isWritable else { return }
        if stream === client { upstreamPausedByPeer = false } else { clientPausedByPeer = false }
        updateReadInterest()
    }

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        if clientLeftFirst == nil { clientLeftFirst = stream === client }
        if stream === client {
            end(error: closeError(closing: stream, socketError: error))
            upstream.closeAfterFlush()
            if ownsClientConnection { context.clientConnectionClosed(info, connection: client.transport, error: error) }
        } else {
            end(error: closeError(closing: stream, socketError: error))
            client.closeAfterFlush()
        }
    }

    // MARK: ClientHandler

    func beginShutdown() {}

    func abort() {
        end(error: FlowError(.shutdown, "Tapline was shut down while the WebSocket was open"))
        upstream.close()
        client.close()
    }
}
