/// Why a compression or decompression step failed. Every case says what to
/// look at; none of them is a programming error on the caller's side except
/// `invalidParameters`.
public enum CompressionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The format or window size is not one zlib accepts (e.g. window bits outside 8...15).
    case invalidParameters(String)
    /// The input is not valid data of the expected format; `detail` is zlib's message.
    case corruptData(detail: String)
    /// Decompressing would produce more than `limit` bytes (a decompression bomb, or a
    /// limit set too low for this data).
    case outputLimitExceeded(limit: Int)
    /// `finish()` was called before the end of the compressed stream (the data was cut short).
    case truncated
    /// Bytes followed the end of a zlib stream.
    case trailingData(count: Int)
    /// zlib could not allocate its state.
    case outOfMemory
    /// zlib returned a code this wrapper does not expect (a bug in Tapline).
    case unexpectedStatus(code: Int32, operation: String)

    public var description: String {
        switch self {
        case .invalidParameters(let why):
            return "invalid compression parameters: \(why)"
        case .corruptData(let detail):
            return "the compressed data is corrupt (\(detail))"
        case .outputLimitExceeded(let limit):
            return "decompressed data would exceed the limit of \(limit) bytes"
        case .truncated:
            return "the compressed data ends before the end of the stream (truncated)"
        case .trailingData(let count):
            return "\(count) bytes follow the end of the compressed stream"
        case .outOfMemory:
            return "zlib could not allocate memory"
        case .unexpectedStatus(let code, let operation):
            return "zlib \(operation) returned unexpected status \(code)"
        }
    }
}
