/// A request block's pseudo-headers: the first of each, nil when absent.
///
/// A struct rather than a tuple of optionals: the compiler copies and destroys a
/// struct inline, while a tuple of `String?` went through the runtime's generic tuple
/// witnesses (~1k instructions a request for the few copies an HTTP/2 request makes).
struct HTTP2RequestPseudoHeaders {
    var method: String?
    var scheme: String?
    var authority: String?
    var path: String?
}
