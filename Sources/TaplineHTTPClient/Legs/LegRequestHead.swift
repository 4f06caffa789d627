import TaplineWire

/// A request head as an owner hands it to an `HTTPClientLeg`, in the form its
/// frontend already has; each leg translates the other form itself, with the pure
/// functions of `HTTP2HeadTranslator`, so a head that already has the upstream's
/// form goes through without a copy.
///
/// Either form is already rewritten for the upstream by the owner (routing is its
/// decision): `.http1` in origin-form with its Host, hop-by-hop fields removed and
/// framed as its body will be (`HTTP1HeadRewriter.upstreamRequest`); `.http2` with
/// the `:authority` and X-Forwarded-* fields it should carry.
public enum LegRequestHead {
    case http1(HTTPRequestHead)
    /// An HTTP/2 request block: pseudo-headers first, names lowercase.
    case http2(HTTPHeaders)

    /// The request's method (`GET` when an HTTP/2 block has none).
    public var method: String {
        switch self {
        case .http1(let head): return head.method
        case .http2(let fields): return HTTP2HeadTranslator.requestPseudoHeaders(fields).method ?? "GET"
        }
    }

    /// The request's method is HEAD (its response has no content: RFC 9110 §9.3.2). Read
    /// from an HTTP/2 block's bytes: no `String`, no pass over the other pseudo-headers.
    public var isHEAD: Bool {
        switch self {
        case .http1(let head):
            return head.method == "HEAD"
        case .http2(let fields):
            return fields.withUnsafeFieldBytes { fields in
                for index in 0..<fields.count where fields.nameIs(index, ":method") {
                    let value = fields.value(index) // methods are case-sensitive (RFC 9110 §9.1)
                    return value.count == 4 && value[0] == UInt8(ascii: "H") && value[1] == UInt8(ascii: "E")
                        && value[2] == UInt8(ascii: "A") && value[3] == UInt8(ascii: "D")
                }
                return false
            }
        }
    }
}
