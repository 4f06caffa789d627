import TaplineFlow
@testable import TaplineHTTPClient
@testable import TaplineProxy
import TaplineWire

/// A small Playbook for `HTTP1ExchangeStateMachine` (mitmproxy's `tutils.Playbook` is
/// the model): one event in, exactly these actions out. Actions are rendered as short
/// lines (`"sendHead GET / end"`, `"record flowEnded client-aborted 0/0"`) so a test
/// reads as the exchange it pins; `last` keeps the actions themselves for a closer look.
///
/// The clock is a number the test moves (`advance`); every event that takes a time
/// gets `now`.
struct HTTP1ExchangePlaybook {
    static let target = UpstreamTarget(scheme: .http, host: "origin.test", port: 8080)

    let machine: HTTP1ExchangeStateMachine
    private let sink = RecordingExchangeActionSink()
    private(set) var now = Timestamp(microseconds: 1_700_000_000_000_000)
    /// The actions of the last event.
    private(set) var last: [RecordingExchangeActionSink.Entry] = []

    init(timeouts: ProxyTimeouts = ProxyTimeouts(), upstreamFailure: UpstreamFailure? = nil) {
        let flowIDs = IdentifierSource()
        machine = HTTP1ExchangeStateMachine(connection: ConnectionID(7), clientScheme: "http", timeouts: timeouts,
                                            upstreamFailure: upstreamFailure, nextFlowID: { FlowID(flowIDs.next()) })
    }

    mutating func advance(milliseconds: Int64) {
        now = Timestamp(microseconds: now.microseconds + milliseconds * 1_000)
    }

    /// Feeds one event; returns its actions, rendered.
    mutating func on(_ event: (HTTP1ExchangeStateMachine, Timestamp, RecordingExchangeActionSink) -> Void) -> [String] {
        sink.entries = []
        event(machine, now, sink)
        last = sink.entries
        return last.map { entry in
            switch entry {
            case .action(let action): return Self.render(action)
            case .record(let event): return "record " + Self.render(event)
            case .recordBody(_, let isRequest, let bytes): return "record \(isRequest ? "request" : "response")Body \(bytes.count)"
            }
        }
    }

    // MARK: Building events

    /// A request head as the client sent it; the upstream gets it as it is (the
    /// rewriting is `HTTP1HeadRewriter`'s, tested on its own).
    mutating func request(_ method: String, _ path: String = "/", version: HTTPVersion = .http1_1,
                          framing: HTTP1BodyFraming = .none, headers: [(String, String)] = []) -> [String] {
        let head = HTTPRequestHead(method: method, target: path, version: version,
                                   headers: HTTPHeaders([("Host", "origin.test:8080")] + headers))
        return on { machine, now, sink in
            machine.requestHead(head, framing: framing, target: Self.target, upstreamRequest: head, now: now, sink)
        }
    }

    static func response(_ status: Int, framing: HTTP1BodyFraming = .none,
                         headers: [(String, String)] = []) -> LegResponseHead {
        LegResponseHead(received: HTTPResponseHead(version: .http1_1, status: status,
                                                   reason: HTTPStatusText.reason(status), headers: HTTPHeaders(headers)),
                        framing: framing, statedContentLength: nil)
    }

    static func bytes(_ text: String) -> ArraySlice<UInt8> { Array(text.utf8)[...] }

    // MARK: Rendering

    static func render(_ action: HTTP1ExchangeAction) -> String {
        switch action {
        case .arm(let deadline, let milliseconds): return "arm \(deadline) \(milliseconds)"
        case .disarm: return "disarm"
        case .openLeg(_, let attempt, let reuseAllowed): return "openLeg #\(attempt)\(reuseAllowed ? " reuse" : " fresh")"
        case .adoptOpenedLeg(let reasons): return "adoptLeg" + (reasons.isEmpty ? "" : " paused " + render(reasons))
        case .discardOpenedLeg: return "discardLeg"
        case .sendHead(let head, let endStream):
            guard case .http1(let request) = head else { return "sendHead h2" }
            return "sendHead \(request.method) \(request.target)\(endStream ? " end" : "")"
        case .sendBody(let bytes): return "sendBody \(bytes.count)"
        case .sendEnd(let trailers): return "sendEnd" + render(trailers)
        case .cancelLeg: return "cancelLeg"
        case .pauseLeg(let reason): return "pauseLeg " + render(reason)
        case .resumeLeg(let reason): return "resumeLeg " + render(reason)
        case .pullClient: return "pullClient"
        case .updateClientReading: return "updateClientReading"
        case .waitForCaptureDrain: return "waitForCaptureDrain"
        case .sendInterimHead(let head): return "sendInterimHead \(head.status)"
        case .sendResponseHead(let head): return "sendResponseHead \(head.status)"
        case .writeResponseBody(let bytes, let chunked): return "writeBody \(bytes.count)\(chunked ? " chunked" : "")"
        case .writeLastChunk(let trailers): return "writeLastChunk" + render(trailers)
        case .switchProtocols(_, let response, _): return "switchProtocols \(response.status)"
        case .finishExchange(let keepLeg): return "finishExchange\(keepLeg ? " keepLeg" : "")"
        case .answer(let status, _, let headRequest): return "answer \(status)\(headRequest ? " head only" : "")"
        case .closeClient(let afterFlush): return "closeClient\(afterFlush ? " afterFlush" : "")"
        }
    }

    private static func render(_ event: FlowEvent) -> String {
        switch event {
        case .flowStarted: return "flowStarted"
        case .requestHead(_, let head, _): return "requestHead \(head.method) \(head.target)"
        case .requestEnd(_, let trailers, let bytes, _): return "requestEnd \(bytes)" + render(trailers)
        case .upstreamConnected(_, _, _, let reused, _): return "upstreamConnected\(reused ? " reused" : "")"
        case .responseHead(_, let head, _): return "responseHead \(head.status)"
        case .responseEnd(_, let trailers, let bytes, _): return "responseEnd \(bytes)" + render(trailers)
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
