import TaplineFlow
import TaplineHTTP2
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// The RFC 8441 side of one client stream that opened with an extended CONNECT
/// (`:protocol websocket`): the client's stream as a byte stream, the handshake
/// toward the upstream, and, once the upstream switched, the `WebSocketRelay` that
/// owns the flow. The exchange (request head, leg, response mapping, the flow until the
/// switch) is the stream's `HTTP2ExchangeStateMachine`'s, which decides when the stream
/// is handed over; `HTTP2ProxyHandler` hands this bridge the stream's events first.
///
/// Upstreams: an HTTP/2 one that announced SETTINGS_ENABLE_CONNECT_PROTOCOL gets the
/// extended CONNECT as is, and its 2xx switches; an HTTP/1.1 one gets the GET + Upgrade of
/// `http1UpgradeRequest` on a connection of its own, and its 101 is checked against the
/// key sent (`upgradeKey`, `ExtendedConnectTranslator.http2Response(toUpgrade:key:)`).
///
/// Invariants: `stage` only moves forward (waiting → upgrading over HTTP/1.1 → relaying,
/// or waiting → relaying for an HTTP/2 upstream); once relaying, the relay records the
/// flow's end and the client stream's events only feed `clientStream`. Client DATA is
/// credited when the relay takes it (`HTTP2TunnelStream`), never by the handler.
///
/// Thread ownership: confined to the handler's loop; owned by the `HTTP2StreamExchange`
/// of the stream (the handler's one field for it), which it does not reference.
final class HTTP2WebSocketBridge {
    /// How far the WebSocket has got.
    enum Stage {
        /// No upstream has taken the request yet (connecting, or waiting for its SETTINGS),
        /// or an HTTP/2 upstream stream is open and has not answered.
        case waitingForUpstream
        /// The GET + Upgrade went to an HTTP/1.1 upstream with this `Sec-WebSocket-Key`.
        case upgradingOverHTTP1(key: String)
        /// The upstream switched: the relay owns both sides and the flow. `upstreamStream`
        /// is the HTTP/2 upstream's stream as a byte stream, nil for an HTTP/1.1 socket.
        case relaying(WebSocketRelay, upstreamStream: HTTP2TunnelStream?)
    }

    /// The client's stream as a byte stream (the relay's client side once relaying).
    let clientStream: HTTP2TunnelStream
    private(set) var stage: Stage = .waitingForUpstream
    /// After an end of ours, how long a peer has to end its side before its stream is reset (ms).
    private let closeGrace: Int
    /// Asks the handler to run its pump (the tunnel streams' output).
    private let needsPump: () -> Void

    /// - Parameters:
    ///   - session: the client connection's session; `stream` the extended CONNECT's stream.
    ///   - transport: the client socket carrying the session.
    init(session: HTTP2Session, stream: Int32, transport: any ByteStream, closeGrace: Int,
         needsPump: @escaping () -> Void) {
        self.closeGrace = closeGrace
        self.needsPump = needsPump
        clientStream = HTTP2TunnelStream(session: session, stream: stream, transport: transport,
                                         closeGrace: closeGrace, needsPump: needsPump)
    }

    /// Why an HTTP/2 CONNECT request cannot be bridged, with the status that answers it;
    /// nil for an extended CONNECT that can (`:protocol websocket`, RFC 8441 §4's pseudo-headers,
    /// a stream left open for the WebSocket).
    static func refusal(of fields: HTTPHeaders, endStream: Bool) -> (error: FlowError, status: Int)? {
        guard ExtendedConnectTranslator.protocolName(fields) != nil, !endStream else {
            return (FlowError(.badRequest, "CONNECT inside HTTP/2 is not supported by Tapline (only extended CONNECT for WebSocket, RFC 8441)"), 501)
        }
        do throws(ExtendedConnectError) {
            try ExtendedConnectTranslator.validate(fields)
        } catch {
            if case .unsupportedProtocol = error { return (FlowError(.badRequest, error.description), 501) }
            return (FlowError(.badRequest, error.description), 400)
        }
        return nil
    }

    /// True once the relay owns the flow.
    var isRelaying: Bool {
        if case .relaying = stage { return true }
        return false
    }

    /// The key sent to the HTTP/1.1 upstream, to check its 101 against; nil before.
    var upgradeKey: String? {
        if case .upgradingOverHTTP1(let key) = stage { return key }
        return nil
    }

    /// The HTTP/2 upstream's stream while relaying over one.
    var upstreamStream: HTTP2TunnelStream? {
        if case .relaying(_, let upstreamStream) = stage { return upstreamStream }
        return nil
    }

    // MARK: Toward the upstream

    /// The HTTP/1.1 Upgrade request for the client's extended CONNECT, with a fresh key
    /// (a retry on a new connection gets a new one).
    func http1UpgradeRequest(_ fields: HTTPHeaders, hostHeader: String?,
                             forwardedFor: (clientIP: String, scheme: String)?) -> HTTPRequestHead {
        var generator = SystemRandomNumberGenerator()
        let key = WebSocketHandshake.newKey(using: &generator)
        stage = .upgradingOverHTTP1(key: key)
        return ExtendedConnectTranslator.http1UpgradeRequest(fields, key: key, hostHeader: hostHeader,
                                                             forwardedFor: forwardedFor)
    }

    /// Stream `id` of an HTTP/2 upstream answered the extended CONNECT with a 2xx: it as a byte stream.
    func makeUpstreamStream(on connection: HTTP2UpstreamConnection, stream id: Int32) -> HTTP2TunnelStream {
        HTTP2TunnelStream(session: connection.session, stream: id, transport: connection.upstream.stream,
                          closeGrace: closeGrace, needsPump: needsPump)
    }

    /// The upstream switched and the client has its 2xx: a relay takes both sides and the
    /// flow over. `fromUpstream`: bytes already read after the switch.
    func startRelay(context: ProxyContext, info: ClientConnectionInfo, flow: FlowID, timings: FlowTimingsBox,
                    upstream: any ByteStream, upstreamStream: HTTP2TunnelStream?, fromUpstream: [UInt8],
                    tap: WebSocketTap) {
        let relay = WebSocketRelay(context: context, info: info, flow: flow, timings: timings,
                                   client: clientStream, upstream: upstream, tap: tap, ownsClientConnection: false)
        stage = .relaying(relay, upstreamStream: upstreamStream)
        relay.start(fromClient: [], fromUpstream: fromUpstream)
    }

    /// The upstream answered with an ordinary response (the upgrade was refused) and it
    /// is complete: the client stream ends after it, even if the client keeps its side open.
    func upstreamRefused() {
        clientStream.closeAfterFlush()
    }

    /// An event of the HTTP/2 upstream stream while relaying over it; false (nothing done)
    /// when not relaying over an HTTP/2 stream, for the handler to map it as a response event.
    /// A reset is recorded at `time` on `flow` through `context`.
    func upstreamStreamEvent(_ event: HTTP2Event, context: ProxyContext, flow: FlowID, time: Timestamp) -> Bool {
        guard let upstreamStream else { return false }
        if case .streamReset(_, let code) = event {
            context.record(.http2StreamReset(flow: flow, fromClient: false, errorCode: code.rawValue, time: time))
        }
        upstreamStream.receive(event)
        return true
    }

    /// The HTTP/2 upstream connection was lost: true when relaying over it (the relay
    /// hears it as its upstream side closing), false for the handler to fail the exchange.
    func upstreamLost(_ error: FlowError) -> Bool {
        guard let upstreamStream else { return false }
        upstreamStream.streamClosed(error: error)
        return true
    }

    // MARK: From the client

    /// DATA of the client's stream: WebSocket bytes, credited when the relay takes them.
    func clientSent(_ bytes: [UInt8]) { clientStream.receive(bytes) }

    /// The client ended its side (END_STREAM, or trailers: only their end counts).
    func clientEnded() { clientStream.receiveEnd() }

    /// The client reset its stream: true when relaying (the relay hears it as the client
    /// side closing), false for the handler to end the flow itself.
    func clientReset(code: HTTP2ErrorCode) -> Bool {
        guard isRelaying else { return false }
        clientStream.streamClosed(error: HTTP2ConnectionFailure(message: "the client reset its stream with \(code)"))
        return true
    }

    /// The client's stream closed (`code` NO_ERROR when both ends ended): true when relaying
    /// (the relay closes the upstream side itself, after its queued bytes).
    func clientStreamClosed(code: HTTP2ErrorCode) -> Bool {
        clientStream.streamClosed(error: code == .noError ? nil : HTTP2StreamResetError(code: code))
        return isRelaying
    }

    /// The client connection closed (`error` from its socket, if any).
    func clientConnectionClosed(error: (any Error)?) {
        clientStream.streamClosed(error: error ?? HTTP2ConnectionFailure(message: "the HTTP/2 connection closed"))
    }

    /// After the sessions' output was written: tells the relay which side can take more again.
    func checkWritability() {
        guard case .relaying(_, let upstreamStream) = stage else { return }
        clientStream.checkWritability()
        upstreamStream?.checkWritability()
    }

    /// Shutdown's grace ran out: the relay ends the flow and closes both sides.
    func abort() {
        if case .relaying(let relay, _) = stage { relay.abort() }
    }
}
