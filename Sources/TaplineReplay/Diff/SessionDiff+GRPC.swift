import TaplineCapture
import TaplineExport

extension SessionDiff {
    /// Both flows as gRPC calls (`options.grpcDecoder`), when both are gRPC; nil otherwise
    /// (they are then compared as HTTP exchanges). Reads each body up to `options.bodyLimit`
    /// bytes; a longer one's last message shows as incomplete.
    ///
    /// - Throws: `SessionDiffError` naming the flow whose stored bytes could not be read.
    func grpcCalls(_ a: CapturedFlow, _ b: CapturedFlow) throws(SessionDiffError) -> (a: GRPCCallView, b: GRPCCallView)? {
        guard GRPCCallDecoder.contentType(of: a) != nil, GRPCCallDecoder.contentType(of: b) != nil,
              let left = try grpcCall(a), let right = try grpcCall(b) else { return nil }
        return (left, right)
    }

    private func grpcCall(_ flow: CapturedFlow) throws(SessionDiffError) -> GRPCCallView? {
        let request: [UInt8]
        let response: [UInt8]
        do {
            request = try flow.requestBody.bodyData(limit: min(options.bodyLimit, Int(clamping: flow.requestBody.capturedBytes)))
        } catch {
            throw SessionDiffError(session: flow.requestBody.sessionDirectory, flow: flow.id, part: "request body", cause: error)
        }
        do {
            response = try flow.responseBody.bodyData(limit: min(options.bodyLimit, Int(clamping: flow.responseBody.capturedBytes)))
        } catch {
            throw SessionDiffError(session: flow.requestBody.sessionDirectory, flow: flow.id, part: "response body", cause: error)
        }
        return options.grpcDecoder.view(of: flow, requestBody: request, responseBody: response)
    }
}
