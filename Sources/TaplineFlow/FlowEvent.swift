import TaplineWire

/// One thing that happened on the proxy, in the order it happened.
///
/// The proxy emits these on its event-loop threads; a `FlowRecorder` (the
/// capture writer, the live log) consumes them. Events of one flow are emitted
/// in order by one thread; events of different flows interleave.
///
/// Life of an HTTP flow:
/// `flowStarted`, `requestHead`, `requestBody`*, `requestEnd`, `upstreamConnected`?,
/// (`responseHead` interim)*, `responseHead`, `responseBody`*, `responseEnd`, `flowEnded`.
/// A flow that fails skips to `flowEnded` with an error. Every started flow ends.
public enum FlowEvent: Sendable {
    /// A client connected to a listener.
    case connectionOpened(connection: ConnectionID, client: String, listener: String, time: Timestamp)
    /// The client completed a TLS handshake with us (interception).
    case connectionTLS(connection: ConnectionID, tls: TLSDetails, time: Timestamp)
    /// The client connection closed; `error` says why when it was not a clean close.
    case connectionClosed(connection: ConnectionID, time: Timestamp, bytesReceived: UInt64,
                          bytesSent: UInt64, error: FlowError?)

    /// A flow began. `scheme` is `http`/`https` (or `tcp` for raw tunnels);
    /// `authority` is the `host:port` the flow is addressed to.
    case flowStarted(flow: FlowID, connection: ConnectionID, kind: FlowKind, scheme: String,
                     authority: String, time: Timestamp)
    /// The request head as the client sent it (not as forwarded).
    case requestHead(flow: FlowID, head: HTTPRequestHead, time: Timestamp)
    /// Request body bytes as they arrived (after de-chunking; content-encoding kept).
    case requestBody(flow: FlowID, bytes: [UInt8])
    /// The request ended; `trailers` when chunked with trailers.
    case requestEnd(flow: FlowID, trailers: HTTPHeaders?, bodyBytes: UInt64, time: Timestamp)
    /// The flow was assigned an upstream connection (new or reused).
    case upstreamConnected(flow: FlowID, server: String, tls: TLSDetails?, reused: Bool, time: Timestamp)
    /// A response head from the upstream (interim 1xx heads come first when sent).
    case responseHead(flow: FlowID, head: HTTPResponseHead, time: Timestamp)
    case responseBody(flow: FlowID, bytes: [UInt8])
    case responseEnd(flow: FlowID, trailers: HTTPHeaders?, bodyBytes: UInt64, time: Timestamp)

    /// The flow re-sends flow `sourceFlow` of the session named in `session.json`'s
    /// `sourceSession` (`tapline replay`; emitted right after `flowStarted`).
    case flowReplays(flow: FlowID, sourceFlow: FlowID, time: Timestamp)

    // MARK: HTTP/2

    /// The flow is HTTP/2 stream `streamID` on its connection (emitted right after `flowStarted`).
    case http2Stream(flow: FlowID, streamID: UInt32, time: Timestamp)
    /// A SETTINGS frame one side of a connection sent: `fromClient` true for the client leg,
    /// false for the upstream leg. Identifiers and values in the order sent.
    case http2Settings(connection: ConnectionID, fromClient: Bool, settings: [HTTP2Setting], time: Timestamp)
    /// RST_STREAM for a flow's stream, sent by the client (`fromClient`) or the upstream.
    case http2StreamReset(flow: FlowID, fromClient: Bool, errorCode: UInt32, time: Timestamp)
    /// GOAWAY on a connection's client or upstream leg.
    case http2GoAway(connection: ConnectionID, fromClient: Bool, lastStreamID: UInt32, errorCode: UInt32,
                     debugData: String, time: Timestamp)

    // MARK: WebSocket

    /// One complete WebSocket message (or control frame) on a `websocket` flow, after any
    /// fragments were joined. `payload` is decompressed (permessage-deflate); `wireBytes`
    /// counts the frame bytes as they crossed the wire.
    case webSocketMessage(flow: FlowID, message: WebSocketMessageRecord, time: Timestamp)
    /// A piece of a large WebSocket message's decompressed payload, recorded as it is
    /// inflated instead of held: the pieces of one direction (`fromClient`) since its
    /// previous message with `streamedPayloadSize` are that message's payload, in order,
    /// and its `webSocketMessage` follows them (with an empty `payload`).
    case webSocketPayload(flow: FlowID, fromClient: Bool, bytes: [UInt8])

    /// Bytes relayed through a tunnel flow so far are reported at its end only.
    /// The flow is over: complete timings, byte counts for tunnels, and the error if any.
    /// (Indirect: its timings are the largest payload by far; boxed, the enum is a
    /// third of the size, and every event is moved a few times on its way to a sink.)
    indirect case flowEnded(flow: FlowID, timings: FlowTimings, bytesFromClient: UInt64,
                            bytesFromServer: UInt64, error: FlowError?, time: Timestamp)

    /// Payload bytes the event carries (body chunks, WebSocket messages); 0 for the rest.
    public var bodyByteCount: Int {
        switch self {
        case .requestBody(_, let bytes), .responseBody(_, let bytes): return bytes.count
        case .webSocketMessage(_, let message, _): return message.payload.count
        case .webSocketPayload(_, _, let bytes): return bytes.count
        default: return 0
        }
    }

    /// The flow this event belongs to, if it belongs to one.
    public var flow: FlowID? {
        switch self {
        case .connectionOpened, .connectionTLS, .connectionClosed: return nil
        case .flowStarted(let f, _, _, _, _, _), .requestHead(let f, _, _), .requestBody(let f, _),
             .requestEnd(let f, _, _, _), .upstreamConnected(let f, _, _, _, _),
             .responseHead(let f, _, _), .responseBody(let f, _), .responseEnd(let f, _, _, _),
             .flowEnded(let f, _, _, _, _, _), .http2Stream(let f, _, _), .http2StreamReset(let f, _, _, _),
             .webSocketMessage(let f, _, _), .webSocketPayload(let f, _, _), .flowReplays(let f, _, _):
            return f
        case .http2Settings, .http2GoAway:
            return nil
        }
    }
}

/// An error attached to a flow or connection: a category and a message for people.
public struct FlowError: Sendable, Equatable, Error, CustomStringConvertible {
    public var kind: FlowErrorKind
    public var message: String
    public init(_ kind: FlowErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { "\(kind.rawValue): \(message)" }
}
