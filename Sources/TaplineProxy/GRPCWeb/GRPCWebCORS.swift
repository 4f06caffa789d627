import TaplineWire

/// The CORS part of the gRPC-Web gateway (`--grpc-web`), as Envoy's cors filter answers
/// for its grpc_web filter: a browser's preflight is answered by Tapline, and every
/// translated response says which origin may read it and which gRPC fields it may see.
///
/// Pure functions; usable from any thread.
enum GRPCWebCORS {
    /// Headers allowed when a preflight names none (what gRPC-Web clients send).
    static let defaultAllowedHeaders = "content-type,x-grpc-web,x-user-agent,grpc-timeout"
    /// The trailing fields a browser script may read from a translated response.
    static let exposedHeaders = "grpc-status,grpc-message"
    /// How long (seconds) a browser may cache a preflight answer.
    static let maxAgeSeconds = 86_400

    /// A CORS preflight for a gRPC-Web call: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`, asking for `x-grpc-web` (every gRPC-Web client
    /// sends it) or to a `/package.Service/Method` path. Other preflights go upstream.
    static func isGRPCWebPreflight(_ head: HTTPRequestHead) -> Bool {
        guard head.method == "OPTIONS", head.headers.contains(name: "Origin"),
              head.headers.contains(name: "Access-Control-Request-Method") else { return false }
        let requested = head.headers.tokens(name: "Access-Control-Request-Headers").map { $0.lowercased() }
        return requested.contains("x-grpc-web") || isGRPCPath(head.target)
    }

    /// `/package.Service/Method` (query ignored).
    static func isGRPCPath(_ target: String) -> Bool {
        let path = target.prefix { $0 != "?" }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].isEmpty && parts[1].contains(".") && !parts[2].isEmpty
    }

    /// The answer to a preflight: 204 with the origin echoed, `POST`, the requested
    /// headers echoed (or `defaultAllowedHeaders`), the exposed headers and a max age.
    static func preflightResponse(to request: HTTPRequestHead) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.add(name: "access-control-allow-origin", value: request.headers.first(name: "Origin") ?? "*")
        headers.add(name: "access-control-allow-methods", value: "POST")
        let requested = request.headers.values(name: "Access-Control-Request-Headers").joined(separator: ",")
        headers.add(name: "access-control-allow-headers", value: requested.isEmpty ? defaultAllowedHeaders : requested)
        headers.add(name: "access-control-expose-headers", value: exposedHeaders)
        headers.add(name: "access-control-max-age", value: String(maxAgeSeconds))
        headers.add(name: "vary", value: "Origin")
        headers.add(name: "content-length", value: "0")
        return HTTPResponseHead(version: .http1_1, status: 204, reason: HTTPStatusText.reason(204), headers: headers)
    }

    /// Adds the fields every translated response carries: the request's `Origin` allowed
    /// (when it had one) and the gRPC status fields exposed.
    static func addResponseFields(to headers: inout HTTPHeaders, origin: String?) {
        guard let origin else { return }
        headers.add(name: "access-control-allow-origin", value: origin)
        headers.add(name: "access-control-expose-headers", value: exposedHeaders)
        headers.add(name: "vary", value: "Origin")
    }
}
