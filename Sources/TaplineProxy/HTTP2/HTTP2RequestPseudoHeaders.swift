/// A request block's pseudo-headers: the first of each, nil when absent.
///
/// A struct rather than a tuple of optionals: the compiler copies and destroys a
/// struct inline, while a tuple of `String?` goes through the runtime's generic tuple
/// witnesses on every copy.
struct HTTP2RequestPseudoHeaders {
    var method: String?
    var scheme: String?
    var authority: String?
    var path: String?
}
