import TaplineFlow
@testable import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Fetches one URL through an `HTTPClientLeg`, the way replay will send a recorded
/// request again: an owner of a leg that is not the proxy.
///
/// It asks an `UpstreamLegSource` for a leg (offering ALPN `h2,http/1.1` for https,
/// HTTP/2 by prior knowledge for `h2c://`; a `PooledUpstreamLegSource` connects, or
/// hands out an idle leg an earlier fetch released), sends the request, its body as
/// fast as the leg takes it (`isWritable`, `legBecameWritable`), collects the
/// response, and hands `completion` the response or the `FlowError` that says why
/// there is none, once. The leg goes back to the source then: released after a
/// complete response (pooled if it may carry another), discarded otherwise.
///
/// Thread ownership: started on, and confined to, the source's loop; `completion`
/// runs there. From `start` to `completion` the fetch keeps itself alive (a leg holds
/// its delegate weakly, and nobody else holds the fetch).
final class LegFetch: HTTPClientLegDelegate {
    typealias Completion = (Result<LegFetchResponse, FlowError>) -> Void

    /// Request body bytes handed to the leg at a time.
    private static let bodyChunkSize = 16 * 1024

    private let request: LegFetchRequest
    private let source: any UpstreamLegSource
    private var completion: Completion?
    private var leg: (any HTTPClientLeg)?
    /// Request body bytes not yet handed to the leg.
    private var unsentBody: ArraySlice<UInt8> = []
    private var interimHeads: [HTTPResponseHead] = []
    private var finalHead: HTTPResponseHead?
    private var body: [UInt8] = []
    /// Set from `start` to `finish`.
    private var keptAlive: LegFetch?

    private init(request: LegFetchRequest, source: any UpstreamLegSource, completion: @escaping Completion) {
        self.request = request
        self.source = source
        self.completion = completion
    }

    /// Starts fetching `request` over a leg from `source`. Call on the source's loop.
    static func start(_ request: LegFetchRequest, source: any UpstreamLegSource,
                      completion: @escaping Completion) {
        let fetch = LegFetch(request: request, source: source, completion: completion)
        fetch.keptAlive = fetch
        let offer = request.http2PriorKnowledge
            ? UpstreamProtocolOffer(alpn: [], priorKnowledgeHTTP2: true) : .http2OrHTTP1
        source.leg(for: UpstreamLegRequest(target: request.target, offer: offer, timings: FlowTimingsBox())) { result in
            switch result {
            case .success(let leg): fetch.send(over: leg)
            case .failure(let failure): fetch.finish(.failure(failure.error))
            }
        }
    }

    private func send(over leg: any HTTPClientLeg) {
        leg.delegate = self
        self.leg = leg
        unsentBody = request.body?[...] ?? []
        leg.sendHead(.http1(request.head), endStream: unsentBody.isEmpty)
        sendBody()
    }

    /// Hands the leg body bytes while it takes them, then ends the request.
    private func sendBody() {
        guard let leg, !unsentBody.isEmpty else { return }
        while !unsentBody.isEmpty, leg.isWritable {
            let chunk = unsentBody.prefix(Self.bodyChunkSize)
            unsentBody = unsentBody.dropFirst(chunk.count)
            leg.sendBody(chunk)
        }
        if unsentBody.isEmpty { leg.sendEnd(trailers: nil) }
    }

    /// Calls back once, and gives the leg back: released after a response, discarded after a failure.
    private func finish(_ result: Result<LegFetchResponse, FlowError>) {
        guard let completion else { return }
        self.completion = nil
        if let leg {
            leg.delegate = nil
            self.leg = nil
            if case .success = result { source.release(leg) } else { source.discard(leg) }
        }
        completion(result)
        keptAlive = nil
    }

    // MARK: HTTPClientLegDelegate

    func legResponseStarted(_ leg: any HTTPClientLeg) {}

    func leg(_ leg: any HTTPClientLeg, receivedHead head: LegResponseHead) {
        if head.received.isInterim {
            interimHeads.append(head.received)
        } else {
            finalHead = head.received
        }
    }

    func leg(_ leg: any HTTPClientLeg, receivedBody bytes: ArraySlice<UInt8>) {
        body += bytes
        leg.consumed(bytes.count) // kept, so the upstream may send more
    }

    func leg(_ leg: any HTTPClientLeg, receivedEnd trailers: HTTPHeaders?) {
        guard let finalHead else {
            finish(.failure(FlowError(.badResponse, "\(request.target.hostPort) ended the response without a final head")))
            return
        }
        finish(.success(LegFetchResponse(interimHeads: interimHeads, head: finalHead, body: body, trailers: trailers)))
    }

    func leg(_ leg: any HTTPClientLeg, failed error: FlowError) {
        finish(.failure(error))
    }

    func legBecameWritable(_ leg: any HTTPClientLeg) {
        sendBody()
    }

    func legFinishedInput(_ leg: any HTTPClientLeg) {}
}
