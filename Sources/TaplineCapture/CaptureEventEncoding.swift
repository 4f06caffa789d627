import TaplineFlow
import TaplineWire

/// The pieces of event lines shared by several event types (format v1; see
/// docs/capture-format.md). Used only by the writer thread.
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

    /// `{"requestStart":µs,...}` with only the moments that happened.
    mutating func timings(_ timings: FlowTimings) {
        beginObject()
        for (name, moment) in FlowTimingsCoding.fields(of: timings) {
            if let moment { key(dynamic: name); integer(moment.microseconds) }
        }
        endObject()
    }
}
