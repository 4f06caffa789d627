import TaplineFlow
import TaplineWire

/// The pieces of event lines shared by several event types (format v2; see
/// docs/capture-format.md). Used by `CaptureEventEncoder` on whichever thread owns it.
extension JSONLineBuilder {
    /// `[[name,value],...]` in wire order, names in their original case.
    mutating func headers(_ headers: HTTPHeaders) {
        headers.withUnsafeFieldBytes { headerList($0) }
    }

    /// `{"version","cipher","sni"?,"alpn"?,"peer"?:{"subject","issuer","sha256"}}`.
    mutating func tls(_ tls: TLSDetails) {
        beginObject()
        member("version", tls.version)
        member("cipher", tls.cipher)
        if let serverName = tls.serverName { member("sni", serverName) }
        if let alpn = tls.alpn { member("alpn", alpn) }
        if let peer = tls.peerCertificate {
            key("peer")
            beginObject()
            member("subject", peer.subject)
            member("issuer", peer.issuer)
            member("sha256", peer.sha256Fingerprint)
            endObject()
        }
        endObject()
    }

    /// `{"kind","message"}`.
    mutating func flowError(_ error: FlowError) {
        beginObject()
        member("kind", error.kind.rawValue)
        member("message", error.message)
        endObject()
    }

    /// `"name":"HTTP/1.1"` (or `HTTP/1.0`, `HTTP/2`) without building a String for the usual versions.
    mutating func member(_ name: StaticString, version: HTTPVersion) {
        switch version {
        case .http1_1: member(name, constant: "HTTP/1.1")
        case .http1_0: member(name, constant: "HTTP/1.0")
        case .http2: member(name, constant: "HTTP/2")
        default: member(name, version.description)
        }
    }

    /// `"name":"<kind's raw value>"`, written as a constant (no String to read).
    mutating func member(_ name: StaticString, kind: FlowKind) {
        switch kind {
        case .http: member(name, constant: "http")
        case .tunnel: member(name, constant: "tunnel")
        case .tlsFailed: member(name, constant: "tls-failed")
        case .websocket: member(name, constant: "websocket")
        }
    }

    /// `{"requestStart":µs,...}` with only the moments that happened, in the
    /// order and with the names of `FlowTimingsCoding.keys`.
    mutating func timings(_ timings: FlowTimings) {
        beginObject()
        if let moment = timings.requestStart { member("requestStart", time: moment.microseconds) }
        if let moment = timings.dnsStart { member("dnsStart", time: moment.microseconds) }
        if let moment = timings.dnsEnd { member("dnsEnd", time: moment.microseconds) }
        if let moment = timings.connectStart { member("connectStart", time: moment.microseconds) }
        if let moment = timings.connectEnd { member("connectEnd", time: moment.microseconds) }
        if let moment = timings.tlsStart { member("tlsStart", time: moment.microseconds) }
        if let moment = timings.tlsEnd { member("tlsEnd", time: moment.microseconds) }
        if let moment = timings.requestSent { member("requestSent", time: moment.microseconds) }
        if let moment = timings.firstResponseByte { member("firstResponseByte", time: moment.microseconds) }
        if let moment = timings.done { member("done", time: moment.microseconds) }
        endObject()
    }
}
