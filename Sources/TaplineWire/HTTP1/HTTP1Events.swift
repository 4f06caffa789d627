/// What an `HTTP1RequestParser` yields, in order, for each request:
/// one `head`, zero or more `body` chunks (de-chunked payload bytes), one `end`.
public enum HTTP1RequestEvent: Sendable, Equatable {
    case head(HTTPRequestHead)
    case body(ArraySlice<UInt8>)
    /// The message is complete. `trailers` is non-nil only for chunked bodies that had a trailer section.
    case end(trailers: HTTPHeaders?)
}

/// What an `HTTP1ResponseParser` yields for each response: interim (1xx) heads
/// come as their own `head` + `end` pairs, then the final head, body chunks and `end`.
public enum HTTP1ResponseEvent: Sendable, Equatable {
    case head(HTTPResponseHead)
    case body(ArraySlice<UInt8>)
    case end(trailers: HTTPHeaders?)
}
