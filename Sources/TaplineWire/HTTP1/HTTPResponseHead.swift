/// The status line and header section of an HTTP response, as received.
public struct HTTPResponseHead: Sendable, Equatable {
    public var version: HTTPVersion
    public var status: Int
    /// The reason phrase as sent (may be empty).
    public var reason: String
    public var headers: HTTPHeaders

    public init(version: HTTPVersion = .http1_1, status: Int, reason: String = "", headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    /// 1xx responses other than 101 are interim: a final response follows.
    public var isInterim: Bool { status >= 100 && status < 200 && status != 101 }
}
