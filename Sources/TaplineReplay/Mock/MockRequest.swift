import TaplineCompression
import TaplineExport
import TaplineWire

/// A request as `tapline mock` matches it, live or recorded: method, path, query
/// parameters (decoded `name=value`, sorted: a multiset), the header fields `tapline
/// mock --match-header` may name, and the body in comparable form (`MockRequestBody`).
/// A value type.
public struct MockRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String]
    var headers: HTTPHeaders
    var body: MockRequestBody
    /// A WebSocket opening: an HTTP/1.1 Upgrade, or a recorded RFC 8441 extended CONNECT
    /// (a live one reaches the mock as an Upgrade). Either is compared as a `GET`, so a
    /// recorded CONNECT and a live Upgrade of the same path match, and vice versa.
    public var isWebSocket: Bool

    /// - Parameters:
    ///   - target: origin-form (`/p?q`) or absolute-form (`http://h/p?q`).
    ///   - body: the body as the client sent it, compared as `comparedBody` makes it.
    ///   - grpcDecoder: how a gRPC call's request messages are read (the `--proto` schema).
    public init(method: String, target: String, headers: HTTPHeaders, body: [UInt8],
                grpcDecoder: GRPCCallDecoder = GRPCCallDecoder(schema: nil)) {
        self.init(method: method, target: target, headers: headers,
                  comparedBody: Self.comparedBody(body, target: target, headers: headers, grpcDecoder: grpcDecoder))
    }

    /// A request whose body is already in comparable form (a live body over the limit:
    /// `MockLiveRequestBody`).
    init(method: String, target: String, headers: HTTPHeaders, comparedBody: MockRequestBody) {
        let url: RequestURL?
        if target.hasPrefix("/") {
            let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            url = RequestURL(scheme: "http", host: "", port: nil, path: String(parts[0]),
                             rawQuery: parts.count > 1 ? String(parts[1]) : nil)
        } else {
            url = RequestURL(string: target)
        }
        self.init(method: method, url: url, fallbackPath: target, headers: headers, body: comparedBody)
    }

    /// A body as the client sent it in the form it is compared in: its `Content-Encoding`
    /// undone (as `LoadedBody` undoes a recorded body's) when Tapline decodes it, else as
    /// sent; then as `MockRequestBody` takes it.
    static func comparedBody(_ body: [UInt8], target: String, headers: HTTPHeaders,
                             grpcDecoder: GRPCCallDecoder) -> MockRequestBody {
        var compared = body
        let encoding = headers.values(name: "Content-Encoding").joined(separator: ",")
        if !body.isEmpty, !ContentDecoder.codings(encoding).isEmpty,
           let decoded = try? ContentDecoder.decode(body, contentEncoding: encoding,
                                                    maxOutputBytes: MockSessionLoader.requestBodyLimit) {
            compared = decoded
        }
        return MockRequestBody(compared, target: target, headers: headers, grpcDecoder: grpcDecoder)
    }

    init(method: String, url: RequestURL?, fallbackPath: String, headers: HTTPHeaders, body: MockRequestBody) {
        let extendedConnect = method == "CONNECT" && headers.first(name: ":protocol")?.lowercased() == "websocket"
        self.method = extendedConnect ? "GET" : method
        path = url?.path ?? fallbackPath
        query = (url?.query ?? []).map { $0.name + "=" + ($0.value ?? "") }.sorted()
        self.headers = headers
        self.body = body
        isWebSocket = extendedConnect || headers.first(name: "Upgrade")?.lowercased() == "websocket"
    }

    /// A native gRPC call (`application/grpc`, `+proto`, ...; not gRPC-Web), whose body is
    /// compared as request messages and which an unmatched answer must reach as a gRPC status.
    var isNativeGRPC: Bool {
        guard case .grpc = body else { return false }
        return GRPCStatus.isGRPC(contentType: headerValue("Content-Type"))
    }

    /// The values of the fields named `name`, joined with ", " ("" when there is none).
    func headerValue(_ name: String) -> String {
        headers.values(name: name).joined(separator: ", ")
    }

    /// `path?query` as compared (decoded).
    var pathAndQuery: String {
        query.isEmpty ? path : path + "?" + query.joined(separator: "&")
    }
}
