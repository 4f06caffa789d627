/// The start line and header section of an HTTP request, as received.
///
/// `target` is the request-target exactly as written: origin-form (`/a?b`),
/// absolute-form (`http://h/a`), authority-form (`h:443`, CONNECT) or `*`.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }
}
