import TaplineFlow

/// Why an upstream connection could not be made, and what the client is told.
public struct UpstreamFailure: Error {
    public let error: FlowError

    /// Also made by an owner whose connection could not become a leg (e.g. an HTTP/2
    /// session that could not be set up over it).
    public init(error: FlowError) {
        self.error = error
    }

    /// 504 for timeouts, 502 for everything else.
    public var status: Int { error.kind == .upstreamTimeout ? 504 : 502 }
}
