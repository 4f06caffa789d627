import TaplineCapture

/// Reads a captured flow's stored bodies and hands them to a `GRPCCallDecoder`: the I/O
/// half of building a `GRPCCallView`. Holds the decoder (and so the schema) for the
/// flows of one command; usable from one thread at a time.
public struct GRPCCallReader: Sendable {
    public let decoder: GRPCCallDecoder

    public init(decoder: GRPCCallDecoder) {
        self.decoder = decoder
    }

    /// The call view of `flow`, nil when it is not gRPC (cheap: no body is read then).
    /// - Throws: `CaptureError.cannotRead` when a body segment is missing or damaged.
    public func view(of flow: CapturedFlow) throws(CaptureError) -> GRPCCallView? {
        guard GRPCCallDecoder.contentType(of: flow) != nil else { return nil }
        let request = try flow.requestBody.bodyData(limit: Int(clamping: flow.requestBody.capturedBytes))
        let response = try flow.responseBody.bodyData(limit: Int(clamping: flow.responseBody.capturedBytes))
        return decoder.view(of: flow, requestBody: request, responseBody: response)
    }
}
