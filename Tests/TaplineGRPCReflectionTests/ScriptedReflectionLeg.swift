import TaplineFlow
@testable import TaplineGRPCReflection
import TaplineHTTPClient
import TaplineNet
import TaplineProtobuf
import TaplineWire

/// An HTTP/2 leg with no socket under it that answers gRPC reflection calls as
/// `ScriptedReflectionServer` does: a call to a version the server does not serve ends
/// trailers-only with UNIMPLEMENTED; otherwise each request message is answered with one
/// response, and the request stream's end with the OK trailers. Answers arrive on a later
/// turn of the loop, as a real leg's would.
///
/// Thread ownership: confined to `loop`.
final class ScriptedReflectionLeg: HTTPClientLeg {
    weak var delegate: (any HTTPClientLegDelegate)?
    let target: UpstreamTarget
    let serverAddress: String
    let tls: TLSDetails? = nil
    let reused = false
    private(set) var responseStarted = false
    private(set) var poolable = false
    let isWritable = true

    private let loop: EventLoop
    private let servedVersions: Set<ServerReflectionVersion>
    private var framer = GRPCMessageFramer()
    private var requestBody: [UInt8] = []
    private var served = false

    init(target: UpstreamTarget, loop: EventLoop, servedVersions: Set<ServerReflectionVersion>) {
        self.target = target
        serverAddress = target.hostPort
        self.loop = loop
        self.servedVersions = servedVersions
    }

    func sendHead(_ head: LegRequestHead, endStream: Bool) {
        guard case .http2(let fields) = head else { preconditionFailure("reflection speaks HTTP/2") }
        served = servedVersions.contains { $0.methodPath == fields.first(name: ":path") }
        var response = HTTPHeaders([(":status", "200"), ("content-type", "application/grpc")])
        if !served { response.add(name: "grpc-status", value: "12") }
        later { leg, delegate in
            leg.responseStarted = true
            delegate.legResponseStarted(leg)
            delegate.leg(leg, receivedHead: LegResponseHead(received: HTTPResponseHead(version: .http2, status: 200, headers: response),
                                                            framing: .chunked, statedContentLength: nil, endsStream: !leg.served))
            if !leg.served { delegate.leg(leg, receivedEnd: nil) }
        }
    }

    func sendBody(_ bytes: ArraySlice<UInt8>) {
        guard served else { return }
        requestBody += bytes
        // The frames are whole: the client hands each message over in one piece.
        guard let events = try? framer.consume(Array(bytes)) else { preconditionFailure("a request that is not gRPC frames") }
        for case .message(let frame) in events {
            let answer = ScriptedReflectionServer.answer(to: Array(frame.payload(in: requestBody)))
            let framed = GRPCMessageFrame.encoded(answer)
            later { leg, delegate in delegate.leg(leg, receivedBody: framed[...]) }
        }
    }

    func sendEnd(trailers: HTTPHeaders?) {
        guard served else { return }
        later { leg, delegate in
            leg.poolable = true
            delegate.leg(leg, receivedEnd: HTTPHeaders([("grpc-status", "0")]))
        }
    }

    func pauseReading(_ reason: LegPauseReason) {}
    func resumeReading(_ reason: LegPauseReason) {}
    func consumed(_ count: Int) {}
    func cancel() { delegate = nil }
    func takeOver() -> (stream: any ByteStream, unparsed: [UInt8])? { nil }

    /// Runs `event` on a later turn of the loop, if the leg still has an owner then.
    private func later(_ event: @escaping (ScriptedReflectionLeg, any HTTPClientLegDelegate) -> Void) {
        _ = loop.scheduleTimer(milliseconds: 0) { [self] in
            if let delegate { event(self, delegate) }
        }
    }
}
