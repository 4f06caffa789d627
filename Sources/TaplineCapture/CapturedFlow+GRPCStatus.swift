import TaplineWire

extension CapturedFlow {
    /// The status a gRPC call ended with: from the response trailers, or from the
    /// head of a trailers-only response. Nil for flows that are not gRPC (by the
    /// response's Content-Type) or whose status never arrived.
    public var grpcStatus: GRPCStatus? {
        guard let response, let type = response.headers.first(name: "Content-Type"),
              GRPCStatus.isGRPC(contentType: type) else { return nil }
        return responseTrailers.flatMap { GRPCStatus(fields: $0) } ?? GRPCStatus(fields: response.headers)
    }
}
