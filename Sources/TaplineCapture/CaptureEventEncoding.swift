import TaplineFlow
import TaplineWire

/// The pieces of event lines shared by several event types (format v1; see
/// docs/capture-format.md). Used by `CaptureEventEncoder` on whichever thread owns it.
extension JSONLineBuilder {
    /// Starts an event line: `{"t":<µs>,"type":"<type>"`.
    mutating func beginEvent(_ type: StaticString, time: Int64) {
        beginObject()
        key("t"); integer(time)
        key("type"); string(constant: type)
    }

    /// Ends an event line with `}` and a newline.
    mutating func endEvent() {
        endObject()
        newline()
    }

    /// `[[name,value],...]` in wire order, names in their original case.
    mutating func headers(_ headers: HTTPHeaders) {
        beginArray()
        for field in headers.fields {
            element()
            beginArray()
            element(); string(field.name)
            element(); string(field.value)
            endArray()
        }
        endArray()
    }

    /// `{"version","cipher","sni"?,"alpn"?,"peer"?:{"subject","issuer","sha256"}}`.
    mutating func tls(_ tls: TLSDetails) {
        beginObject()
        key("version"); string(tls.version)
        key("cipher"); string(tls.cipher)
        if let serverName = tls.serverName { key("sni"); string(serverName) }
        if let alpn = tls.alpn { key("alpn"); string(alpn) }
        if let peer = tls.peerCertificate {
            key("peer")
            beginObject()
            key("subject"); string(peer.subject)
            key("issuer"); string(peer.issuer)
            key("sha256"); string(peer.sha256Fingerprint)
            endObject()
        }
        endObject()
    }

    /// `{"kind","message"}`.
    mutating func flowError(_ error: FlowError) {
        beginObject()
        key("kind"); string(error.kind.rawValue)
        key("message"); string(error.message)
        endObject()
    }

    /// `"HTTP/1.1"`, `"HTTP/1.0"`, `"HTTP/2"` without building a String for the usual versions.
    mutating func version(_ version: HTTPVersion) {
        switch version {
        case .http1_1: string(constant: "HTTP/1.1")
        case .http1_0: string(constant: "HTTP/1.0")
        case .http2: string(constant: "HTTP/2")
        default: string(version.description)
        }
    }

    /// `{"requestStart":µs,...}` with only the moments that happened, in the
    /// order and with the names of `FlowTimingsCoding.names`.
    mutating func timings(_ timings: FlowTimings) {
        beginObject()
        if let moment = timings.requestStart { key("requestStart"); integer(moment.microseconds) }
        if let moment = timings.dnsStart { key("dnsStart"); integer(moment.microseconds) }
        if let moment = timings.dnsEnd { key("dnsEnd"); integer(moment.microseconds) }
        if let moment = timings.connectStart { key("connectStart"); integer(moment.microseconds) }
        if let moment = timings.connectEnd { key("connectEnd"); integer(moment.microseconds) }
        if let moment = timings.tlsStart { key("tlsStart"); integer(moment.microseconds) }
        if let moment = timings.tlsEnd { key("tlsEnd"); integer(moment.microseconds) }
        if let moment = timings.requestSent { key("requestSent"); integer(moment.microseconds) }
        if let moment = timings.firstResponseByte { key("firstResponseByte"); integer(moment.microseconds) }
        if let moment = timings.done { key("done"); integer(moment.microseconds) }
        endObject()
    }
}
