import TaplineWire

extension CapturedFlow {
    /// The status a gRPC call ended with: from the response trailers, or from the
    /// head of a trailers-only response. Nil for flows that are not gRPC (by the
    /// response's Content-Type) or whose status never arrived.
    public var grpcStatus: GRPCStatus? {
        // Decided on the field's bytes: asked of both flows of every pair a replay compares.
        guard let response, response.headers.withUnsafeFieldBytes({ fields in
            fields.firstIndex(literalName: "Content-Type").map { GRPCStatus.isGRPC(contentType: fields.value($0)) } ?? false
        }) else { return nil }
        return responseTrailers.flatMap { GRPCStatus(fields: $0) } ?? GRPCStatus(fields: response.headers)
    }
}
