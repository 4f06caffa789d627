/// Why an HTTP/1.1 message was refused. `description` is a log line a user can act on.
public enum HTTP1ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case headerSectionTooLarge(limit: Int)
    case invalidStartLine(String)
    case unsupportedVersion(String)
    case invalidHeaderName(String)
    case invalidHeaderValue(name: String)
    case obsoleteLineFolding
    case bareCarriageReturn
    /// A line ended in LF without CR (strict CRLF parsing; see `HTTP1RequestParser`).
    case bareLineFeed
    case transferEncodingWithContentLength
    case conflictingContentLength
    case invalidContentLength(String)
    /// Transfer-Encoding that cannot frame a request: empty, chunked not final or not
    /// alone once, or any coding on HTTP/1.0 (RFC 9112 §6.1, §6.3: answered 400).
    case unsupportedTransferEncoding(String)
    /// Well-formed codings before a final `chunked` (`gzip, chunked`, `identity, chunked`)
    /// that Tapline does not decode (RFC 9112 §6.1: answered 501, as nginx does).
    case transferCodingNotImplemented(String)
    case invalidChunkSize(String)
    case chunkLineTooLong
    case trailerSectionTooLarge
    case invalidStatusCode(String)
    case truncatedMessage
    case missingHost
    /// More than one Host field line (RFC 9112 §3.2).
    case multipleHostHeaders

    /// The status a server answers this request error with: 431 for a head over the
    /// limit, 501 for a transfer coding it does not implement, else 400.
    public var status: Int {
        switch self {
        case .headerSectionTooLarge: return 431
        case .transferCodingNotImplemented: return 501
        default: return 400
        }
    }

    public var description: String {
        switch self {
        case .headerSectionTooLarge(let limit): return "header section larger than \(limit) bytes"
        case .invalidStartLine(let line): return "malformed start line: \(line)"
        case .unsupportedVersion(let v): return "unsupported HTTP version \(v)"
        case .invalidHeaderName(let n): return "invalid character in header name \(n.debugDescription)"
        case .invalidHeaderValue(let n): return "invalid character in the value of header \(n)"
        case .obsoleteLineFolding: return "obsolete line folding (obs-fold) in header section"
        case .bareCarriageReturn: return "bare CR not followed by LF"
        case .bareLineFeed: return "line ended with LF instead of CRLF"
        case .transferEncodingWithContentLength: return "both Transfer-Encoding and Content-Length present (request smuggling risk)"
        case .conflictingContentLength: return "differing Content-Length values"
        case .invalidContentLength(let v): return "invalid Content-Length \(v.debugDescription)"
        case .unsupportedTransferEncoding(let v):
            return "unsupported Transfer-Encoding \(v.debugDescription): a request body must be sent with exactly \"Transfer-Encoding: chunked\" (or Content-Length)"
        case .transferCodingNotImplemented(let v):
            return "Transfer-Encoding \(v.debugDescription) is not implemented: send the body with exactly \"Transfer-Encoding: chunked\" (or Content-Length)"
        case .invalidChunkSize(let v): return "invalid chunk size \(v.debugDescription)"
        case .chunkLineTooLong: return "chunk size line too long"
        case .trailerSectionTooLarge: return "trailer section too large"
        case .invalidStatusCode(let v): return "invalid status code \(v.debugDescription)"
        case .truncatedMessage: return "connection closed before the message was complete"
        case .missingHost: return "HTTP/1.1 request without a Host header"
        case .multipleHostHeaders: return "request with more than one Host header"
        }
    }
}
