import TaplineFlow

/// Why an upstream connection could not be made, and what the client is told.
public struct UpstreamFailure: Error {
    public let error: FlowError

    /// 504 for timeouts, 502 for everything else.
    public var status: Int { error.kind == .upstreamTimeout ? 504 : 502 }
}
