/// Strings that events.jsonl repeats on every line or flow (its keys, event types,
/// directions, versions, reason phrases, methods and the commonest header names), made once: the parser
/// (`CaptureJSONParser`) hands these out instead of making a `String` of the same bytes
/// again. Making strings was ~9% of the instructions of a replay, which reads every
/// flow twice; the longer ones (16 bytes and more) are each an allocation.
///
/// Invariant: `string(_:count:)` returns a string only when its UTF-8 is exactly the
/// given bytes, so what the parser returns is the same either way; a string not listed
/// is made as before.
///
/// Memory: the list and its table (`CaptureByteStringTable`), once (~5 KiB). Immutable
/// after `init`; shared by every thread.
final class CaptureJSONKnownStrings: Sendable {
    static let shared = CaptureJSONKnownStrings([
        // keys (docs/capture-format.md)
        "t", "type", "flow", "conn", "kind", "scheme", "authority", "client", "listener", "method", "target",
        "version", "headers", "status", "reason", "dir", "seg", "off", "len", "bodyBytes", "capturedBytes",
        "truncated", "ended", "server", "reused", "tls", "timings", "bytesFromClient", "bytesFromServer",
        "error", "code", "message", "trailers", "stream", "received", "sent", "sourceFlow", "sourceSession",
        "opcode", "size", "wireBytes", "compressed", "payload", "index", "alpn", "cipher", "sni", "peer",
        "subject", "issuer", "settings", "lastStream", "errorCode", "undecoded", "cap", "capped", "side",
        "requestStart", "dnsStart", "dnsEnd", "connectStart", "connectEnd", "tlsStart", "tlsEnd", "requestSent",
        "firstResponseByte", "done",
        // event types
        "connectionOpened", "connectionTLS", "connectionClosed", "flowStarted", "flowReplays", "requestHead",
        "requestEnd", "upstreamConnected", "responseHead", "body", "responseEnd", "flowEnded", "http2Stream",
        "http2StreamReset", "http2Settings", "http2GoAway", "wsMessage", "grpcMessage", "extension",
        // values
        "request", "response", "http", "https", "websocket", "tunnel", "HTTP/1.1", "HTTP/1.0", "HTTP/2", "OK",
        // reason phrases (a response head's `reason`, read for every flow)
        "Switching Protocols", "Created", "No Content", "Partial Content", "Moved Permanently", "Found",
        "See Other", "Not Modified", "Temporary Redirect", "Bad Request", "Unauthorized", "Forbidden",
        "Not Found", "Internal Server Error", "Bad Gateway", "Service Unavailable",
        // methods
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT",
        // header names, as HTTP/1.1 and HTTP/2 spell them
        "Host", "host", "User-Agent", "user-agent", "Accept", "accept", "Accept-Encoding", "accept-encoding",
        "Accept-Language", "accept-language", "Connection", "Content-Type", "content-type", "Content-Length",
        "content-length", "Date", "date", "Server", "server", "Last-Modified", "last-modified", "ETag", "etag",
        "Accept-Ranges", "accept-ranges", "Cache-Control", "cache-control", "Cookie", "cookie", "Set-Cookie",
        "set-cookie", "Content-Encoding", "content-encoding", "Vary", "vary", "Transfer-Encoding", ":method",
        ":scheme", ":authority", ":path", ":status", "te", "trailers", "grpc-status", "grpc-message",
        "keep-alive", "close", "identity", "gzip", "*/*",
    ])

    private let strings: [String]
    private let table: CaptureByteStringTable

    private init(_ list: [String]) {
        strings = list
        table = CaptureByteStringTable(list)
    }

    /// The listed string whose UTF-8 is the `count` bytes at `base`, if one is.
    @inline(__always)
    func string(_ base: UnsafePointer<UInt8>, count: Int) -> String? {
        table.index(of: base, count: count).map { strings[$0] }
    }
}
