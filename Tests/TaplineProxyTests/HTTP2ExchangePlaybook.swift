import TaplineFlow
import TaplineHTTP2
@testable import TaplineHTTPClient
@testable import TaplineProxy
import TaplineWire

/// A small Playbook for `HTTP2ExchangeStateMachine`, as `HTTP1ExchangePlaybook` is for
/// the HTTP/1 one: one event in, exactly these actions out, rendered as short lines
/// (`"sendHead GET /a end"`, `"record flowEnded client-aborted 0/0"`).
///
/// The clock is a number the test moves (`advance`); every event that takes a time gets `now`.
struct HTTP2ExchangePlaybook {
    static let environment = HTTP2ExchangeEnvironment(connection: ConnectionID(7), clientScheme: "http",
                                                      targetAuthority: "origin.test:8080",
                                                      upstreamHostPort: "origin.test:8080", responseTimeout: 60_000)

    private(set) var machine: HTTP2ExchangeStateMachine
    let sink = RecordingHTTP2ExchangeActionSink()
    private(set) var now = Timestamp(microseconds: 1_700_000_000_000_000)
    private(set) var last: [RecordingHTTP2ExchangeActionSink.Entry] = []

    /// A machine for client stream 1 whose request is `method path` (`headers` added).
    init(_ method: String = "GET", _ path: String = "/", headers: [(String, String)] = []) {
        machine = HTTP2ExchangeStateMachine(flow: FlowID(1), clientStream: 1,
                                            requestFields: Self.requestFields(method, path, headers: headers),
                                            environment: Self.environment)
    }

    static func requestFields(_ method: String, _ path: String, headers: [(String, String)] = []) -> HTTPHeaders {
        let pseudo: [(String, String)] = method == "CONNECT"
            ? [(":method", method), (":protocol", "websocket"), (":scheme", "http"), (":authority", "origin.test:8080"),
               (":path", path)]
            : [(":method", method), (":scheme", "http"), (":authority", "origin.test:8080"), (":path", path)]
        return HTTPHeaders(pseudo + headers)
    }

    mutating func advance(milliseconds: Int64) {
        now = Timestamp(microseconds: now.microseconds + milliseconds * 1_000)
    }

    /// Feeds one event; returns its actions, rendered.
    mutating func on(_ event: (HTTP2ExchangeStateMachine, Timestamp, RecordingHTTP2ExchangeActionSink) -> Void) -> [String] {
        sink.entries = []
        event(machine, now, sink)
        last = sink.entries
        return Self.render(last)
    }

    /// The request head (`endStream`: nothing follows it).
    mutating func head(endStream: Bool = true, upstreamFailure: UpstreamFailure? = nil) -> [String] {
        on { $0.requestHead(endStream: endStream, upstreamFailure: upstreamFailure, now: $1, $2) }
    }

    /// The leg of `attempt` arrived (`kind`, `reused`); its head is the client's block.
    mutating func legOpened(_ attempt: UInt32, _ kind: HTTP2ExchangeStateMachine.LegKind = .http2,
                            reused: Bool = false) -> [String] {
        let fields = machine.requestFields
        return on { machine, now, sink in
            machine.legOpened(attempt: attempt, kind: kind, reused: reused, server: "127.0.0.1:8080", tls: nil,
                              head: kind == .http2 ? .http2(fields) : .http1(HTTP2HeadTranslator.http1Request(fields)),
                              now: now, sink)
        }
    }

    static func http1Response(_ status: Int, framing: HTTP1BodyFraming = .none,
                              headers: [(String, String)] = []) -> LegResponseHead {
        LegResponseHead(received: HTTPResponseHead(version: .http1_1, status: status,
                                                   reason: HTTPStatusText.reason(status), headers: HTTPHeaders(headers)),
                        framing: framing, statedContentLength: nil)
    }

    static func http2Block(_ status: Int, _ headers: [(String, String)] = []) -> HTTPHeaders {
        HTTPHeaders([(":status", String(status))] + headers)
    }

    static func bytes(_ count: Int) -> [UInt8] { [UInt8](repeating: 0x61, count: count) }

    // MARK: Rendering

    static func render(_ entries: [RecordingHTTP2ExchangeActionSink.Entry]) -> [String] {
        entries.map { entry in
            switch entry {
            case .action(let action): return render(action)
            case .record(let event): return "record " + render(event)
            case .recordBody(_, let isRequest, let bytes): return "record \(isRequest ? "request" : "response")Body \(bytes.count)"
            }
        }
    }

    static func render(_ action: HTTP2ExchangeAction) -> String {
        switch action {
        case .openLeg(let attempt, let retry): return "openLeg #\(attempt)\(retry ? " retry" : "")"
        case .discardOpenedLeg: return "discardLeg"
        case .sendHead(let head, let endStream):
            let line: String
            switch head {
            case .http1(let request): line = "sendHead h1 \(request.method) \(request.target)"
            case .http2(let fields):
                line = "sendHead h2 \(fields.first(name: ":method") ?? "") \(fields.first(name: ":path") ?? "")"
            }
            return line + (endStream ? " end" : "")
        case .sendBody(let bytes): return "sendBody \(bytes.count)"
        case .sendEnd(let trailers): return "sendEnd" + render(trailers)
        case .cancelLeg(let code): return "cancelLeg \(code.name)"
        case .releaseLeg: return "releaseLeg"
        case .pauseLeg(let reason): return "pauseLeg " + render(reason)
        case .resumeLeg(let reason): return "resumeLeg " + render(reason)
        case .legConsumed(let count): return "legConsumed \(count)"
        case .armResponseDeadline: return "armDeadline"
        case .disarmResponseDeadline: return "disarmDeadline"
        case .creditClient(let count): return "credit \(count)"
        case .sendInformational(let fields): return "sendInformational \(fields.first(name: ":status") ?? "")"
        case .sendResponseHead(let fields, let endStream):
            return "sendResponseHead \(fields.first(name: ":status") ?? "")\(endStream ? " end" : "")"
        case .sendData(let bytes): return "sendData \(bytes.count)"
        case .finish(let trailers): return "finish" + render(trailers)
        case .answer(let status, let message, let headRequest):
            return "answer \(status)\(headRequest ? " head only" : ""): \(message)"
        case .resetClient(let code, let afterQueuedData): return "resetClient \(code.name)\(afterQueuedData ? " afterQueued" : "")"
        case .stopPeerAfterOurEnd: return "stopPeerAfterOurEnd"
        case .prepareWebSocketBridge: return "prepareWebSocket"
        case .startWebSocketRelay(_, let handshake): return "startWebSocketRelay \(handshake.status)"
        case .passClientResetToWebSocketRelay(let code): return "passResetToRelay \(code.name)"
        case .webSocketUpgradeRefused: return "webSocketUpgradeRefused"
        }
    }

    private static func render(_ event: FlowEvent) -> String {
        switch event {
        case .flowStarted: return "flowStarted"
        case .http2Stream(_, let id, _): return "http2Stream \(id)"
        case .requestHead(_, let head, _): return "requestHead \(head.method) \(head.target)"
        case .requestEnd(_, let trailers, let bytes, _): return "requestEnd \(bytes)" + render(trailers)
        case .upstreamConnected(_, _, _, let reused, _): return "upstreamConnected\(reused ? " reused" : "")"
        case .responseHead(_, let head, _): return "responseHead \(head.status)"
        case .responseEnd(_, let trailers, let bytes, _): return "responseEnd \(bytes)" + render(trailers)
        case .http2StreamReset(_, let fromClient, let code, _):
            return "streamReset \(fromClient ? "client" : "upstream") \(HTTP2ErrorCode(rawValue: code).name)"
        case .flowEnded(_, _, let fromClient, let fromServer, let error, _):
            return "flowEnded \(error?.kind.rawValue ?? "ok") \(fromClient)/\(fromServer)"
        default: return "\(event)"
        }
    }

    private static func render(_ trailers: HTTPHeaders?) -> String {
        guard let trailers else { return "" }
        return " [" + trailers.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
    }

    private static func render(_ reasons: LegPauseReason) -> String {
        var names: [String] = []
        if reasons.contains(.captureBackedUp) { names.append("captureBackedUp") }
        if reasons.contains(.clientSlow) { names.append("clientSlow") }
        return names.joined(separator: "+")
    }
}
