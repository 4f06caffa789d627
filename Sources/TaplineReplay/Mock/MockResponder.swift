import Foundation
import TaplineExport
import TaplineHTTPClient
import TaplineNet
import TaplineProxy
import TaplineWire

/// The mock server's decisions, shared by every connection on every loop: the
/// recordings it serves (`MockSessionLoader`), which one answers a request
/// (`MockRequestMatcher`), where each sequence of identical requests stands
/// (`MockSequenceMode`), and what an unmatched request gets (the near-miss report, or
/// the fallback server). It is the `UpstreamLegSourceFactory` the proxy's server is
/// configured with (`ProxyConfiguration.Mode.served`): each client connection gets a
/// `MockLegSource` whose legs ask it.
///
/// Thread ownership: any thread; the recordings and the sequence positions are behind
/// `lock` (held only to decide, never during I/O). `reload` swaps the recordings and
/// starts every sequence again.
public final class MockResponder: UpstreamLegSourceFactory, @unchecked Sendable {
    public let options: Options
    private let matcher: MockRequestMatcher
    private let lock = NSLock()
    private var recordings: [MockRecording]
    /// The recordings' indices by `method path`: a request is compared only with those
    /// (every recording only when none has its method and path, for the near-miss report).
    private var byMethodAndPath: [String: [Int]]
    /// How many requests each sequence (keyed by its recordings' names) has answered.
    private var served: [[String]: Int] = [:]
    /// One line per answered request (the live log); called on a loop thread, must not block long.
    private let log: @Sendable (String) -> Void

    public init(recordings: [MockRecording], options: Options, log: @escaping @Sendable (String) -> Void) {
        self.recordings = recordings
        byMethodAndPath = Self.index(recordings)
        self.options = options
        self.log = log
        matcher = MockRequestMatcher(rules: options.rules)
    }

    /// How many recordings are served.
    public var recordingCount: Int { lock.withLock { recordings.count } }

    /// Serves `recordings` from now on; every sequence starts again.
    public func reload(_ recordings: [MockRecording]) {
        let index = Self.index(recordings)
        lock.withLock {
            self.recordings = recordings
            byMethodAndPath = index
            served = [:]
        }
    }

    private static func index(_ recordings: [MockRecording]) -> [String: [Int]] {
        var index: [String: [Int]] = [:]
        for (position, recording) in recordings.enumerated() {
            index[recording.request.method + " " + recording.request.path, default: []].append(position)
        }
        return index
    }

    public func makeLegSource(loop: EventLoop, connector: UpstreamConnector, limits: HTTP1Limits,
                              idleMilliseconds: Int) -> any UpstreamLegSource {
        let fallbackLegs = options.fallback == nil ? nil
            : PooledUpstreamLegSource(connector: connector, limits: limits, idleMilliseconds: idleMilliseconds)
        return MockLegSource(loop: loop, responder: self, fallbackLegs: fallbackLegs)
    }

    /// The answer to `request` (its method as the client sent it): the next recorded
    /// response of its strongest matches (a recorded WebSocket is accepted and played),
    /// or the fallback, or a generated 404/502.
    func answer(_ request: MockRequest) -> MockAnswer {
        let (answer, line) = lock.withLock { decide(request) }
        log("\(request.method) \(request.pathAndQuery) \(line)")
        return answer
    }

    /// Called with `lock` held.
    private func decide(_ request: MockRequest) -> (MockAnswer, String) {
        let candidates = byMethodAndPath[request.method + " " + request.path] ?? []
        let matched = matcher.matches(request, in: recordings, candidates: candidates)
        if matched.isEmpty {
            if let fallback = options.fallback { return (.fallback(fallback), "-> no match, sent to \(fallback)") }
            let closest = matcher.nearMisses(request, in: recordings)
            let report = nearMissReport(request, closest: closest)
            if request.isNativeGRPC {
                let status = grpcNearMissStatus(closest: closest.first)
                return (.respond(.generatedGRPC(status: status, metadata: [("tapline-near-miss", JSONWriter.text(report, indent: nil))])),
                        "-> gRPC \(status.name) no match")
            }
            return (.respond(.generated(status: options.unmatchedStatus, json: report)), "-> \(options.unmatchedStatus) no match")
        }
        let key = matched.map { recordings[$0].name }
        let count = served[key, default: 0]
        served[key] = count + 1
        guard let position = options.sequence.responseIndex(served: count, count: matched.count) else {
            let json = JSONValue.object([
                JSONMember("error", .string("all \(matched.count) recorded responses to this request were served (--sequence strict)")),
                JSONMember("request", Self.describe(request)),
                JSONMember("recorded", .array(key.map(JSONValue.string))),
            ])
            return (.respond(.generated(status: options.unmatchedStatus, json: json)),
                    "-> \(options.unmatchedStatus) sequence of \(matched.count) used up")
        }
        let recording = recordings[matched[position]]
        guard let head = recording.flow.response else { return (.respond(.generated(status: 502, json: .null)), "-> 502") }
        let flow = recording.flow
        let recordedMilliseconds = flow.requestTime.flatMap { start in flow.responseTime.map { start.milliseconds(to: $0) } }
        if recording.request.isWebSocket, let recordedRequest = flow.request,
           WebSocketHandshake.opensWebSocket(request: recordedRequest, response: head) {
            return webSocketAnswer(request, recording: recording,
                                   delayMilliseconds: options.latency.milliseconds(recorded: recordedMilliseconds))
        }
        let response = MockResponse.recorded(flow, head: head, requestMethod: request.method,
                                             delayMilliseconds: options.latency.milliseconds(recorded: recordedMilliseconds))
        let sequenceText = matched.count > 1 ? " (\(position + 1) of \(matched.count))" : ""
        return (.respond(response), "-> \(head.status) \(recording.name)\(sequenceText)")
    }

    /// A live WebSocket opening that matched a recorded one that opened a WebSocket
    /// (`isWebSocket` is part of matching, so the request is an opening too): accepted
    /// when the request carries a key. A recorded opening that was refused is answered
    /// as recorded, as any response.
    private func webSocketAnswer(_ request: MockRequest, recording: MockRecording,
                                 delayMilliseconds: Int) -> (MockAnswer, String) {
        guard let answer = MockWebSocketAnswer(recording: recording, request: request, options: options,
                                               delayMilliseconds: delayMilliseconds) else {
            let json = JSONValue.object([JSONMember("error", .string("the WebSocket opening has no valid Sec-WebSocket-Key (RFC 6455 §4.1)")),
                                         JSONMember("recorded", .string(recording.name))])
            return (.respond(.generated(status: 400, json: json)), "-> 400 WebSocket \(recording.name) (no valid key)")
        }
        return (.webSocket(answer), "-> 101 WebSocket \(recording.name)")
    }

    /// A line for the live log, from a connection's mocked WebSocket.
    func note(_ line: String) {
        log(line)
    }

    /// The near-miss report (WireMock's): the request as compared, and the closest
    /// recordings (`MockRequestMatcher.nearMisses`) with what differs in each.
    private func nearMissReport(_ request: MockRequest, closest misses: [(index: Int, mismatches: [MockMismatch])]) -> JSONValue {
        let closest = misses.map { miss -> JSONValue in
            let recording = recordings[miss.index]
            return .object([
                JSONMember("recorded", .string(recording.name)),
                JSONMember("request", Self.describe(recording.request)),
                JSONMember("differences", .array(miss.mismatches.map { mismatch in
                    .object([JSONMember("field", .string(mismatch.field)),
                             JSONMember("recorded", .string(mismatch.recorded)),
                             JSONMember("received", .string(mismatch.received))])
                })),
            ])
        }
        return .object([
            JSONMember("error", .string("no recorded request matches")),
            JSONMember("request", Self.describe(request)),
            JSONMember("closest", .array(closest)),
        ])
    }

    /// The status an unmatched native gRPC call ends with, in a trailers-only response its
    /// client can read (an HTTP 404 it would only report as such; a gRPC-Web call, which may
    /// come over HTTP/1.1, gets the HTTP near-miss report): NOT_FOUND (UNAVAILABLE with
    /// `--unmatched 502`) with a `grpc-message` naming the closest recording and what differs
    /// in it (for a request message: its index and JSON Pointers). Called with `lock` held.
    private func grpcNearMissStatus(closest: (index: Int, mismatches: [MockMismatch])?) -> GRPCStatus {
        var message = "tapline mock: no recorded call matches"
        if let closest {
            let reasons = closest.mismatches.map { mismatch in
                mismatch.field == "body" ? mismatch.received
                    : "\(mismatch.field) \(mismatch.received.debugDescription), recorded \(mismatch.recorded.debugDescription)"
            }
            message += "; closest \(recordings[closest.index].name): " + reasons.joined(separator: "; ")
        }
        return GRPCStatus(code: options.unmatchedStatus == 502 ? 14 : 5, message: message)
    }

    private static func describe(_ request: MockRequest) -> JSONValue {
        .object([JSONMember("method", .string(request.method)), JSONMember("path", .string(request.path)),
                 JSONMember("query", .array(request.query.map(JSONValue.string))),
                 JSONMember("body", .string(request.body.summary))])
    }
}
