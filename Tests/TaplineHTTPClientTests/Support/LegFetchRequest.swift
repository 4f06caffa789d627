import TaplineFlow
import TaplineHTTPClient
import TaplineWire

/// One request for `LegFetch`: where it goes and what it says, as replay will have
/// it from a recorded flow.
///
/// The URL decides the connection: `http://` is HTTP/1.1 over TCP, `https://` is TLS
/// offering ALPN `h2,http/1.1` (HTTP/2 when the server picks h2), `h2c://` is HTTP/2
/// over TCP with prior knowledge (RFC 9113 §3.3).
struct LegFetchRequest: Sendable {
    /// Where the connection goes (an `h2c://` URL is an `http` target).
    let target: UpstreamTarget
    /// Speak HTTP/2 without asking (`h2c://`).
    let http2PriorKnowledge: Bool
    /// The request head, origin-form, with its Host and, when a body follows, its
    /// Content-Length; an HTTP/2 leg makes `:authority` of the Host.
    let head: HTTPRequestHead
    /// The request body; nil or empty: the head ends the request.
    let body: [UInt8]?

    /// A request for `url` (`scheme://host[:port][/path][?query]`). `headers` go as
    /// given; Host is the URL's authority unless they name one, and a body gets a
    /// Content-Length unless they state one. Throws a `badRequest` saying what is
    /// wrong with the URL.
    init(url: String, method: String = "GET", headers: HTTPHeaders = HTTPHeaders(),
         body: [UInt8]? = nil) throws(FlowError) {
        let schemes: [(prefix: String, scheme: UpstreamTarget.Scheme, priorKnowledge: Bool)] = [
            ("http://", .http, false), ("https://", .https, false), ("h2c://", .http, true),
        ]
        guard let (prefix, scheme, priorKnowledge) = schemes.first(where: { url.lowercased().hasPrefix($0.prefix) }) else {
            throw FlowError(.badRequest, "cannot fetch \(url.debugDescription): it must start with http://, https:// or h2c://")
        }
        let rest = url.dropFirst(prefix.count)
        let pathStart = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        guard let (host, port) = UpstreamTarget.splitAuthority(rest[..<pathStart],
                                                               defaultPort: scheme == .https ? 443 : 80) else {
            throw FlowError(.badRequest, "cannot fetch \(url.debugDescription): give a host, and a port from 1 to 65535")
        }
        let path = rest[pathStart...]
        target = UpstreamTarget(scheme: scheme, host: host, port: port)
        http2PriorKnowledge = priorKnowledge
        var fields = headers
        if !fields.contains(name: "Host") { fields.add(name: "Host", value: target.authority) }
        if let body, !fields.contains(name: "Content-Length") {
            fields.add(name: "Content-Length", value: String(body.count))
        }
        head = HTTPRequestHead(method: method, target: path.hasPrefix("/") ? String(path) : "/" + path, headers: fields)
        self.body = body
    }
}
