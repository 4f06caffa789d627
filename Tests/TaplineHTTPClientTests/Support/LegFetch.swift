import TaplineFlow
@testable import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Fetches one URL through an `HTTPClientLeg`, the way replay will send a recorded
/// request again: an owner of a leg that is not the proxy.
///
/// It connects with the `UpstreamConnector` (TLS verified as its configuration says,
/// offering ALPN `h2,http/1.1` for https), makes the leg the connection speaks
/// (`HTTP2ClientLeg` when ALPN chose h2 or for `h2c://`, else `HTTP1ClientLeg`),
/// sends the request, its body as fast as the leg takes it (`isWritable`,
/// `legBecameWritable`), collects the response, and hands `completion` the response
/// or the `FlowError` that says why there is none, once. The connection is closed
/// then: nothing is pooled.
///
/// Thread ownership: started on, and confined to, `connector.loop`; `completion`
/// runs there. From `start` to `completion` the fetch keeps itself alive (a leg holds
/// its delegate weakly, and nobody else holds the fetch).
final class LegFetch: HTTPClientLegDelegate {
    typealias Completion = (Result<LegFetchResponse, FlowError>) -> Void

    /// Request body bytes handed to the leg at a time.
    private static let bodyChunkSize = 16 * 1024

    private let request: LegFetchRequest
    private var completion: Completion?
    private var leg: (any HTTPClientLeg)?
    /// Request body bytes not yet handed to the leg.
    private var unsentBody: ArraySlice<UInt8> = []
    private var interimHeads: [HTTPResponseHead] = []
    private var finalHead: HTTPResponseHead?
    private var body: [UInt8] = []
    /// Set from `start` to `finish`.
    private var keptAlive: LegFetch?

    private init(request: LegFetchRequest, completion: @escaping Completion) {
        self.request = request
        self.completion = completion
    }

    /// Starts fetching `request` over a connection `connector` opens. Call on `connector.loop`.
    static func start(_ request: LegFetchRequest, connector: UpstreamConnector,
                      completion: @escaping Completion) {
        let fetch = LegFetch(request: request, completion: completion)
        fetch.keptAlive = fetch
        let alpn = request.target.scheme == .https ? ["h2", "http/1.1"] : []
        connector.connect(to: request.target, alpn: alpn, timings: FlowTimingsBox()) { result in
            switch result {
            case .success(let connection): fetch.send(over: connection)
            case .failure(let failure): fetch.finish(.failure(failure.error))
            }
        }
    }

    private func send(over connection: UpstreamConnection) {
        let leg: any HTTPClientLeg
        if request.http2PriorKnowledge || connection.tls?.alpn == "h2" {
            do {
                leg = try HTTP2ClientLeg.open(upstream: connection)
            } catch {
                connection.stream.close()
                finish(.failure(FlowError(.upstreamUnreachable,
                                          "cannot start HTTP/2 with \(request.target.hostPort): \(error)")))
                return
            }
        } else {
            leg = HTTP1ClientLeg(upstream: connection, reused: false, limits: HTTP1Limits())
        }
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

    /// Calls back once, and lets the connection go.
    private func finish(_ result: Result<LegFetchResponse, FlowError>) {
        guard let completion else { return }
        self.completion = nil
        if let leg {
            leg.delegate = nil
            leg.cancel()
            self.leg = nil
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
