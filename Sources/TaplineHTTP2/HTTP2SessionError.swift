/// Why an `HTTP2Session` operation failed, worded for logs and flow errors.
public enum HTTP2SessionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// nghttp2 could not allocate the session (out of memory).
    case cannotCreate(String)
    /// The peer broke the protocol; the session has queued a GOAWAY with `code` and is finished.
    case connectionError(code: HTTP2ErrorCode, reason: String)
    /// A request or response could not be submitted (`reason` from nghttp2, e.g. the
    /// stream is closed or the peer sent GOAWAY).
    case cannotSubmit(String)
    /// The HTTP2-Settings header of an `Upgrade: h2c` request is not valid base64url SETTINGS.
    case invalidUpgradeSettings

    public var description: String {
        switch self {
        case .cannotCreate(let why): return "cannot create an HTTP/2 session: \(why)"
        case .connectionError(let code, let reason): return "HTTP/2 connection error \(code): \(reason)"
        case .cannotSubmit(let why): return "cannot submit an HTTP/2 frame: \(why)"
        case .invalidUpgradeSettings: return "the HTTP2-Settings header is not valid base64url-encoded SETTINGS"
        }
    }
}
