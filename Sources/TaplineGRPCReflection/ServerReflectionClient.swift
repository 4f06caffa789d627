import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Carries a `ServerReflectionConversation` to a server over HTTP/2 legs from an
/// `UpstreamLegSource` (the proxy's connector, TLS settings and pool): an owner of
/// legs like replay. Each call the conversation opens is a leg (an HTTP/2 stream)
/// with the request `POST <methodPath>`, `content-type: application/grpc`,
/// `te: trailers`; request messages go out as gRPC frames as the conversation makes
/// them, response frames are split with `GRPCMessageFramer` and handed back one by one.
///
/// The whole conversation is bounded by `timeoutMilliseconds` (one loop timer); at
/// the limit the stream is cancelled and the result is `.timedOut`. Nothing blocks
/// the loop. `completion` runs once, on the loop; the leg goes back to the source
/// then (released after a call that ended, discarded otherwise).
///
/// Thread ownership: started on, and confined to, the source's loop. From `start` to
/// `completion` the client keeps itself alive (a leg holds its delegate weakly).
public final class ServerReflectionClient: HTTPClientLegDelegate {
    public typealias Completion = (Result<ServerReflectionResult, ServerReflectionError>) -> Void

    /// The largest response body kept per call (reflection answers are descriptors: small).
    private static let maxResponseBytes = 64 << 20

    private var conversation: ServerReflectionConversation
    private let upstream: ServerReflectionUpstream
    private let source: any UpstreamLegSource
    private let timeoutMilliseconds: Int
    private var completion: Completion?
    private var timer: LoopTimer?
    private var leg: (any HTTPClientLeg)?
    /// Actions waiting for the leg of a call being opened.
    private var queued: [ServerReflectionConversation.Action] = []
    private var opening = false
    private var responseFields: HTTPHeaders?
    private var framer = GRPCMessageFramer()
    private var responseBody: [UInt8] = []
    /// The current call's response ended (its leg may carry another request).
    private var responseEnded = false
    /// The conversation's result, held until its call ends (the server's trailers), so
    /// that the leg goes back to the source with its stream closed.
    private var result: ServerReflectionResult?
    private var keptAlive: ServerReflectionClient?

    private init(query: ServerReflectionQuery, upstream: ServerReflectionUpstream, source: any UpstreamLegSource,
                 timeoutMilliseconds: Int, completion: @escaping Completion) {
        conversation = ServerReflectionConversation(query: query, upstream: upstream.description)
        self.upstream = upstream
        self.source = source
        self.timeoutMilliseconds = timeoutMilliseconds
        self.completion = completion
    }

    /// Asks `upstream`'s reflection for `query`. Call on `loop`, the source's loop.
    public static func start(_ query: ServerReflectionQuery, upstream: ServerReflectionUpstream,
                             source: any UpstreamLegSource, loop: EventLoop, timeoutMilliseconds: Int,
                             completion: @escaping Completion) {
        let client = ServerReflectionClient(query: query, upstream: upstream, source: source,
                                            timeoutMilliseconds: timeoutMilliseconds, completion: completion)
        client.keptAlive = client
        client.timer = loop.scheduleTimer(milliseconds: timeoutMilliseconds) { [weak client] in
            guard let client else { return }
            client.finish(client.result.map { .success($0) } ?? .failure(client.failure(.timedOut(milliseconds: timeoutMilliseconds))))
        }
        client.perform(client.conversation.start())
    }

    /// Carries out actions in order; those after an `openCall` wait until its leg is there.
    private func perform(_ actions: [ServerReflectionConversation.Action]) {
        var remaining = actions[...]
        while let action = remaining.popFirst() {
            guard completion != nil else { return }
            if opening {
                queued.append(action)
                continue
            }
            switch action {
            case .openCall(let version):
                open(version)
            case .send(let message):
                leg?.sendBody(GRPCMessageFrame.encoded(message)[...])
            case .finishCall:
                leg?.sendEnd(trailers: nil)
            case .finished(let result):
                self.result = result
                if responseEnded { finish(.success(result)) }
            case .failed(let error):
                finish(.failure(error))
            }
        }
    }

    private func open(_ version: ServerReflectionVersion) {
        if let old = leg {
            old.delegate = nil
            leg = nil
            if responseEnded, old.poolable { source.release(old) } else { source.discard(old) }
        }
        responseFields = nil
        framer = GRPCMessageFramer()
        responseBody = []
        responseEnded = false
        opening = true
        let request = UpstreamLegRequest(target: upstream.target, offer: upstream.offer, timings: FlowTimingsBox())
        source.leg(for: request) { [weak self] result in
            guard let self, self.completion != nil else {
                if case .success(let leg) = result { self?.source.discard(leg) }
                return
            }
            switch result {
            case .failure(let upstreamFailure):
                self.finish(.failure(self.failure(.connectionFailed(upstreamFailure.error.message))))
            case .success(let leg):
                leg.delegate = self
                self.leg = leg
                self.opening = false
                var head = HTTPHeaders()
                head.add(name: ":method", value: "POST")
                head.add(name: ":scheme", value: self.upstream.target.scheme == .https ? "https" : "http")
                head.add(name: ":path", value: version.methodPath)
                head.add(name: ":authority", value: self.upstream.target.authority)
                head.add(name: "content-type", value: "application/grpc")
                head.add(name: "te", value: "trailers")
                leg.sendHead(.http2(head), endStream: false)
                let waiting = self.queued
                self.queued = []
                self.perform(waiting)
            }
        }
    }

    /// Calls back once and gives the leg back.
    private func failure(_ kind: ServerReflectionError.Kind) -> ServerReflectionError {
        ServerReflectionError(kind, upstream: upstream.description)
    }

    private func finish(_ result: Result<ServerReflectionResult, ServerReflectionError>) {
        guard let completion else { return }
        self.completion = nil
        timer?.cancel()
        timer = nil
        if let leg {
            leg.delegate = nil
            self.leg = nil
            if responseEnded, leg.poolable { source.release(leg) } else { source.discard(leg) }
        }
        queued = []
        completion(result)
        keptAlive = nil
    }

    // MARK: HTTPClientLegDelegate

    public func legResponseStarted(_ leg: any HTTPClientLeg) {}

    public func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        guard !head.received.isInterim else { return }
        guard head.received.status == 200 else {
            finish(.failure(failure(.connectionFailed("it answered HTTP \(head.received.status), not a gRPC response"))))
            return
        }
        responseFields = head.received.headers
    }

    public func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        leg.consumed(bytes.count)
        guard responseBody.count + bytes.count <= Self.maxResponseBytes else {
            finish(.failure(failure(.badResponse("more than \(Self.maxResponseBytes >> 20) MiB in one call"))))
            return
        }
        responseBody += bytes
        var events: [GRPCFramerEvent] = []
        do {
            try framer.consume(bytes, into: &events)
        } catch {
            finish(.failure(failure(.badResponse("\(error)"))))
            return
        }
        for case .message(let frame) in events {
            guard !frame.isCompressed else {
                finish(.failure(failure(.badResponse("a compressed message, though Tapline asked for none"))))
                return
            }
            perform(conversation.received(message: frame.payload(in: responseBody)))
            guard completion != nil else { return }
        }
    }

    public func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        responseEnded = true
        if let result {
            finish(.success(result))
            return
        }
        let status = trailers.flatMap(GRPCStatus.init(fields:)) ?? responseFields.flatMap(GRPCStatus.init(fields:))
        perform(conversation.callEnded(status: status))
    }

    public func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        finish(result.map { .success($0) } ?? .failure(failure(.connectionFailed(error.message))))
    }

    public func legBecameWritable(_ leg: any HTTPClientLeg) {}

    public func legFinishedInput(_ leg: any HTTPClientLeg) {}
}
