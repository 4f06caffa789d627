import TaplineFlow

/// Why an upstream connection could not be made, and what the client is told.
struct UpstreamFailure: Error {
    let error: FlowError

    /// 504 for timeouts, 502 for everything else.
    var status: Int { error.kind == .upstreamTimeout ? 504 : 502 }
}
