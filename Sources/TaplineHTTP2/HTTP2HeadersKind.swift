/// What a received HEADERS block is, from the session's point of view.
public enum HTTP2HeadersKind: Sendable, Equatable {
    /// A request head (server role): pseudo-headers `:method`, `:scheme`, `:authority`, `:path`.
    case request
    /// A 1xx response head (client role); the final one follows.
    case informational
    /// The final response head (client role), with `:status`.
    case response
    /// A trailer section: always ends the stream.
    case trailers
}
