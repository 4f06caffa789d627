/// An HTTP content coding Tapline can decode for display and export
/// (`Content-Encoding` values, RFC 9110 §8.4.1).
public enum ContentCoding: String, Sendable, CaseIterable {
    case gzip
    case deflate
    case br
    case zstd
    case identity
}
