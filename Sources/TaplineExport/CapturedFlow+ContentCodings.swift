import TaplineCapture
import TaplineCompression

extension CapturedFlow {
    /// The content codings of the `direction` message's body, in the order they were
    /// applied (`["br", "gzip"]`), lowercased; empty when the body is stored as it means
    /// (no `Content-Encoding`, only `identity`) or there is no such message. Every
    /// `Content-Encoding` field counts, in order (RFC 9110 §5.3: one list). Tokens are
    /// as written: one Tapline cannot decode is listed all the same. Pure.
    public func contentCodings(_ direction: BodyDirection) -> [String] {
        let headers = direction == .request ? request?.headers : response?.headers
        guard let headers else { return [] }
        return ContentDecoder.codings(headers.values(name: "Content-Encoding").joined(separator: ","))
    }
}
