import TaplineHTTP2

/// When an HTTP/2 client connection is told GOAWAY, and with what: decisions only (no
/// I/O, no clock); `HTTP2ProxyHandler` submits the GOAWAYs it is given to its session.
///
/// - The upstream connection sent GOAWAY: the client hears the same code, so it stops
///   opening streams here. An error code goes at once; NO_ERROR waits until no stream is
///   in flight (`takeDeferred`), since some clients stop reading their streams as soon
///   as a GOAWAY arrives.
/// - Tapline shuts down: NO_ERROR "shutting down" at once (no new streams), and NO_ERROR
///   again when the last stream in flight is done, after which the session finishes and
///   the connection closes.
/// - Otherwise the last stream's end starts the idle timeout (whose GOAWAY "idle" the
///   handler sends when `HTTP2ConnectionDeadlines` says it passed).
///
/// Invariants: a deferred GOAWAY is given out once; once shutting down, always.
///
/// Thread ownership: a value owned by one handler, used on its loop.
struct HTTP2ClientGoAwaySchedule {
    struct GoAway: Equatable {
        let code: HTTP2ErrorCode
        let debugData: String
    }

    /// What follows the end of the last stream in flight.
    enum AfterLastStream: Equatable {
        case goAway(GoAway)
        case waitForIdleTimeout
    }

    private(set) var isShuttingDown = false
    /// An upstream's NO_ERROR GOAWAY to pass on once no stream is in flight.
    private(set) var deferred: GoAway?

    /// The upstream connection sent GOAWAY with `code`: the GOAWAY for the client now,
    /// or nil when it waits for the streams in flight (`takeDeferred`).
    mutating func upstreamSentGoAway(code: HTTP2ErrorCode, upstream hostPort: String) -> GoAway? {
        let goAway = GoAway(code: code, debugData: "upstream \(hostPort) sent GOAWAY")
        guard code == .noError else { return goAway }
        deferred = goAway
        return nil
    }

    /// The deferred GOAWAY, given out once; call it only when no stream is in flight.
    mutating func takeDeferred() -> GoAway? {
        defer { deferred = nil }
        return deferred
    }

    /// Shutdown began: the GOAWAY for the client now.
    mutating func beginShutdown() -> GoAway {
        isShuttingDown = true
        return GoAway(code: .noError, debugData: "shutting down")
    }

    /// The last stream in flight ended.
    func lastStreamEnded() -> AfterLastStream {
        isShuttingDown ? .goAway(GoAway(code: .noError, debugData: "")) : .waitForIdleTimeout
    }
}
