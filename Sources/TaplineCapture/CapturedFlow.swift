import TaplineFlow
import TaplineWire

/// One exchange as read back from a capture: who, what was asked and
/// answered, the bodies' locations, timings and how it ended. A value type
/// assembled by `CapturedSession.open`.
///
/// Memory: the fields a plain HTTP exchange leaves empty (trailers, interim responses,
/// resets, WebSocket and gRPC messages, the error, extensions) share one reference, nil
/// until one of them is set (`CapturedFlowRareFields`), so a copy retains and a destroy
/// releases that one rather than one per field; they read and write as stored fields.
///
/// Invariants: `response` is the final response head; interim 1xx heads are in
/// `interimResponses` in arrival order. Heads keep header order and name case
/// exactly as captured. Connection-level facts (`clientAddress`, `clientTLS`)
/// are copied from the flow's `CapturedConnection`.
public struct CapturedFlow: Sendable, Equatable {
    public var id: FlowID
    public var connection: ConnectionID
    public var kind: FlowKind
    /// `http`, `https` or `tcp`.
    public var scheme: String
    /// `host:port` the flow was addressed to.
    public var authority: String
    public var started: Timestamp

    public var clientAddress: String?
    public var clientTLS: TLSDetails?
    /// The upstream `ip:port` (or host:port) the flow was sent to, if it got that far.
    public var serverAddress: String?
    public var upstreamTLS: TLSDetails?
    /// True when the upstream connection was reused from an earlier flow.
    public var upstreamReused = false

    public var request: HTTPRequestHead?
    public var requestTime: Timestamp?
    public var requestTrailers: HTTPHeaders? {
        @inline(__always) get { rare.requestTrailers }
        @inline(__always) set { rare.requestTrailers = newValue }
    }
    public var requestBody: CapturedBody
    public var interimResponses: [HTTPResponseHead] {
        @inline(__always) get { rare.interimResponses }
        @inline(__always) set { rare.interimResponses = newValue }
        _modify { yield &rare.interimResponses }
    }
    public var response: HTTPResponseHead?
    public var responseTime: Timestamp?
    public var responseTrailers: HTTPHeaders? {
        @inline(__always) get { rare.responseTrailers }
        @inline(__always) set { rare.responseTrailers = newValue }
    }
    public var responseBody: CapturedBody
    /// HTTP/2 flows: the client's stream id (`http2Stream` event).
    public var http2StreamID: UInt32?
    /// HTTP/2 flows: RST_STREAMs sent by the client or the upstream, in order.
    public var http2Resets: [CapturedHTTP2Reset] {
        @inline(__always) get { rare.http2Resets }
        @inline(__always) set { rare.http2Resets = newValue }
        _modify { yield &rare.http2Resets }
    }
    /// WebSocket flows: every message and control frame after the 101, in capture order.
    public var webSocketMessages: [CapturedWebSocketMessage] {
        @inline(__always) get { rare.webSocketMessages }
        @inline(__always) set { rare.webSocketMessages = newValue }
        _modify { yield &rare.webSocketMessages }
    }
    /// gRPC and gRPC-Web flows: every frame of both bodies as the proxy split them while
    /// recording (`grpcMessage` lines), in capture order. Empty for sessions captured
    /// before those lines existed, and for gRPC-Web text (readers split the stored bodies
    /// then: `GRPCCallDecoder`).
    public var grpcMessages: [CapturedGRPCMessage] {
        @inline(__always) get { rare.grpcMessages }
        @inline(__always) set { rare.grpcMessages = newValue }
        _modify { yield &rare.grpcMessages }
    }

    public var timings = FlowTimings()
    public var ended: Timestamp?
    public var error: RecordedError? {
        @inline(__always) get { rare.error }
        @inline(__always) set { rare.error = newValue }
    }
    /// Bytes relayed from the client / server (tunnels; also reported for HTTP flows).
    public var bytesFromClient: UInt64 = 0
    public var bytesFromServer: UInt64 = 0
    /// Data another producer filed with this flow (`extension` lines), by name; the last
    /// line of a name wins. E.g. `har`: the HAR fields of an imported entry (`HARRecordedEntry`).
    public var extensions: [String: CaptureJSONValue] {
        @inline(__always) get { rare.extensions }
        @inline(__always) set { rare.extensions = newValue }
        _modify { yield &rare.extensions }
    }
    /// In a replay session (`SessionMetadata.sourceSession`): the flow of the source
    /// session this flow re-sent (`flowReplays` line); nil otherwise.
    public var sourceFlow: FlowID?

    /// Trailers, interim responses, resets, WebSocket and gRPC messages, the error and
    /// extensions, behind one reference (the computed properties above read and write them).
    private var rare = CapturedFlowRareFields()

    public init(id: FlowID, connection: ConnectionID, kind: FlowKind, scheme: String, authority: String,
                started: Timestamp, sessionDirectory: String) {
        self.id = id
        self.connection = connection
        self.kind = kind
        self.scheme = scheme
        self.authority = authority
        self.started = started
        requestBody = CapturedBody(sessionDirectory: sessionDirectory)
        responseBody = CapturedBody(sessionDirectory: sessionDirectory)
    }

    public var state: CapturedFlowState {
        guard ended != nil else { return .inProgress }
        return error == nil ? .complete : .aborted
    }

    /// `HTTP/2` for flows on an HTTP/2 client stream, else the request's version (`HTTP/1.1`).
    public var protocolName: String {
        if http2StreamID != nil { return "HTTP/2" }
        return request?.version.description ?? "-"
    }

    /// RFC 8441: the request is an HTTP/2 extended CONNECT for WebSocket
    /// (`CONNECT` with `:protocol websocket`); its target is a path, like a GET's.
    public var isExtendedConnectWebSocket: Bool {
        request.map(WebSocketHandshake.isExtendedConnectRequest) ?? false
    }

    /// The final status the client was given: the recorded one, except that an
    /// extended CONNECT bridged to an HTTP/1.1 upstream records the upstream's 101
    /// and the client got 200 (RFC 8441 §5).
    public var clientStatus: Int? {
        response.map { WebSocketHandshake.clientStatus(recordedStatus: $0.status, extendedConnect: isExtendedConnectWebSocket) }
    }

    public func body(_ direction: BodyDirection) -> CapturedBody {
        direction == .request ? requestBody : responseBody
    }

    /// `scheme://authority/path?query`: the request target made absolute
    /// (absolute-form targets are kept as they are; CONNECT shows the authority,
    /// an extended CONNECT its `:path` like a GET).
    public var url: String {
        guard let request else { return "\(scheme)://\(authority)" }
        let target = request.target
        if target.hasPrefix("http://") || target.hasPrefix("https://") { return target }
        if (request.method == "CONNECT" && !isExtendedConnectWebSocket) || target == "*" || !target.hasPrefix("/") {
            return "\(scheme)://\(authority)" + (target == "*" ? " *" : "")
        }
        return "\(scheme)://\(authority)\(target)"
    }

    /// Milliseconds from the request head (or flow start) to done (or flow end); nil while in progress.
    public var durationMilliseconds: Double? {
        let start = timings.requestStart ?? requestTime ?? started
        guard let end = timings.done ?? ended else { return nil }
        return start.milliseconds(to: end)
    }
}
