/// The request methods and URI schemes nearly every request carries, as string
/// literals: a received one is matched by its bytes and the literal (a constant, no
/// allocation, no UTF-8 check) handed out instead of decoding a new `String`.
/// Anything else is decoded.
public enum HTTPCommonTokens {
    /// `bytes` as a method string (methods are case-sensitive, RFC 9110 §9.1).
    public static func method(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        switch bytes.count {
        case 3:
            if equals(bytes, "GET") { return "GET" }
            if equals(bytes, "PUT") { return "PUT" }
        case 4:
            if equals(bytes, "POST") { return "POST" }
            if equals(bytes, "HEAD") { return "HEAD" }
        case 5:
            if equals(bytes, "PATCH") { return "PATCH" }
        case 6:
            if equals(bytes, "DELETE") { return "DELETE" }
        case 7:
            if equals(bytes, "OPTIONS") { return "OPTIONS" }
            if equals(bytes, "CONNECT") { return "CONNECT" }
        default:
            break
        }
        return HTTPHeaders.string(bytes)
    }

    /// `bytes` as a scheme string (as received: `:scheme` is lowercase in practice).
    public static func scheme(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if equals(bytes, "https") { return "https" }
        if equals(bytes, "http") { return "http" }
        return HTTPHeaders.string(bytes)
    }

    /// `bytes` are exactly the bytes of `text` (also what `HTTPHeaderFieldBytes.nameIs` compares with).
    @inlinable @inline(__always)
    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let other = text.utf8Start
        for index in 0..<bytes.count where bytes[index] != other[index] { return false }
        return true
    }
}
