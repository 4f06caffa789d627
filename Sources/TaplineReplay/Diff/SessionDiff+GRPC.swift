import TaplineCapture
import TaplineExport

extension SessionDiff {
    /// Both flows as gRPC calls (`options.grpcDecoder`), when both are gRPC; nil otherwise
    /// (they are then compared as HTTP exchanges). Reads each stored body up to
    /// `options.bodyLimit` bytes (a longer one's last message shows as incomplete); B's
    /// bodies come from `requestBodyOfB`/`responseBodyOfB` when a replay gives them
    /// (`differences(_:_:responseBodyOfB:requestBodyOfB:)`).
    ///
    /// - Throws: `SessionDiffError` naming the flow whose stored bytes could not be read.
    func grpcCalls(_ a: CapturedFlow, _ b: CapturedFlow, requestBodyOfB: [UInt8]? = nil,
                   responseBodyOfB: ResponseBodyOfB = .stored) throws(SessionDiffError) -> (a: GRPCCallView, b: GRPCCallView)? {
        guard GRPCCallDecoder.contentType(of: a) != nil, GRPCCallDecoder.contentType(of: b) != nil else { return nil }
        let requestA = try stored(a, .request)
        let responseA = try stored(a, .response)
        let requestB: [UInt8]
        let responseB: [UInt8]
        switch responseBodyOfB {
        case .stored:
            if let requestBodyOfB { requestB = requestBodyOfB } else { requestB = try stored(b, .request) }
            responseB = try stored(b, .response)
        case .sameBytesAsA:
            requestB = requestBodyOfB ?? requestA
            responseB = responseA
        case .loaded(let body):
            requestB = requestBodyOfB ?? requestA
            responseB = body.bytes
        }
        guard let left = options.grpcDecoder.view(of: a, requestBody: requestA, responseBody: responseA),
              let right = options.grpcDecoder.view(of: b, requestBody: requestB, responseBody: responseB) else { return nil }
        return (left, right)
    }

    /// One direction's stored bytes, up to `options.bodyLimit` (a longer body's last message
    /// shows as incomplete).
    private func stored(_ flow: CapturedFlow, _ direction: BodyDirection) throws(SessionDiffError) -> [UInt8] {
        let body = flow.body(direction)
        do {
            return try body.bodyData(limit: min(options.bodyLimit, Int(clamping: body.capturedBytes)))
        } catch {
            throw SessionDiffError(session: body.sessionDirectory, flow: flow.id, part: "\(direction.rawValue) body", cause: error)
        }
    }
}
