/// A request block's pseudo-headers: the first of each, nil when absent.
///
/// A struct rather than a tuple of optionals: the compiler copies and destroys a
/// struct inline, while a tuple of `String?` goes through the runtime's generic tuple
/// witnesses on every copy.
public struct HTTP2RequestPseudoHeaders {
    public var method: String?
    public var scheme: String?
    public var authority: String?
    public var path: String?
}
