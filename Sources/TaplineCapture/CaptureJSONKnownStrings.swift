import Glibc

/// Strings that events.jsonl repeats on every line or flow (its keys, event types,
/// directions, versions and the commonest header names), made once: the parser
/// (`CaptureJSONParser`) hands these out instead of making a `String` of the same bytes
/// again. Making strings was ~9% of the instructions of a replay, which reads every
/// flow twice; the longer ones (16 bytes and more) are each an allocation.
///
/// Invariant: `string(_:count:)` returns a string only when its UTF-8 is exactly the
/// given bytes, so what the parser returns is the same either way; a string not listed
/// is made as before.
///
/// Memory: the list, once (~4 KiB). Immutable after `init`; shared by every thread.
final class CaptureJSONKnownStrings: @unchecked Sendable {
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
        // header names, as HTTP/1.1 and HTTP/2 spell them
        "Host", "host", "User-Agent", "user-agent", "Accept", "accept", "Accept-Encoding", "accept-encoding",
        "Accept-Language", "accept-language", "Connection", "Content-Type", "content-type", "Content-Length",
        "content-length", "Date", "date", "Server", "server", "Last-Modified", "last-modified", "ETag", "etag",
        "Accept-Ranges", "accept-ranges", "Cache-Control", "cache-control", "Cookie", "cookie", "Set-Cookie",
        "set-cookie", "Content-Encoding", "content-encoding", "Vary", "vary", "Transfer-Encoding", ":method",
        ":scheme", ":authority", ":path", ":status", "te", "trailers", "grpc-status", "grpc-message",
        "keep-alive", "close", "identity", "gzip", "*/*",
    ])

    /// Longest string listed (a longer one is never looked up).
    private static let maxLength = 24
    private static let slotCount = 512

    private let strings: [String]
    /// The strings' UTF-8, one after another; string `i`'s is `starts[i]..<starts[i + 1]`.
    private let bytes: UnsafeMutablePointer<UInt8>
    private let starts: UnsafeMutablePointer<Int32>
    /// Open addressing by `slot(...)`, linear probing: a string's index, or -1.
    private let slots: UnsafeMutablePointer<Int32>

    private init(_ list: [String]) {
        var strings: [String] = []
        var utf8: [UInt8] = []
        var starts: [Int32] = [0]
        var slots = [Int32](repeating: -1, count: Self.slotCount)
        for string in list {
            let encoded = Array(string.utf8)
            guard !encoded.isEmpty, encoded.count <= Self.maxLength, !strings.contains(string) else { continue }
            var slot = Self.slot(count: encoded.count, first: encoded[0], last: encoded[encoded.count - 1])
            while slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
            slots[slot] = Int32(strings.count)
            strings.append(string)
            utf8 += encoded
            starts.append(Int32(utf8.count))
        }
        self.strings = strings
        bytes = .allocate(capacity: utf8.count)
        bytes.initialize(from: utf8, count: utf8.count)
        self.starts = .allocate(capacity: starts.count)
        self.starts.initialize(from: starts, count: starts.count)
        self.slots = .allocate(capacity: Self.slotCount)
        self.slots.initialize(from: slots, count: Self.slotCount)
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        slots.deallocate()
    }

    @inline(__always)
    private static func slot(count: Int, first: UInt8, last: UInt8) -> Int {
        (count &* 31 &+ Int(first) &* 7 &+ Int(last)) & (slotCount - 1)
    }

    /// The listed string whose UTF-8 is the `count` bytes at `base`, if one is.
    func string(_ base: UnsafePointer<UInt8>, count: Int) -> String? {
        guard count > 0, count <= Self.maxLength else { return nil }
        var slot = Self.slot(count: count, first: base[0], last: base[count - 1])
        while true {
            let entry = Int(slots[slot])
            guard entry >= 0 else { return nil }
            let start = Int(starts[entry])
            if Int(starts[entry + 1]) - start == count, memcmp(bytes + start, base, count) == 0 { return strings[entry] }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }
}
