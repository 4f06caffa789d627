/// The one username/password pair a SOCKS5 listener accepts (RFC 1929,
/// `--socks5-auth USER:PASS`). Each part is 1...255 bytes of UTF-8, as the
/// sub-negotiation's length bytes allow.
public struct SOCKS5Credentials: Sendable, Equatable {
    public let username: String
    public let password: String

    /// Nil when a part is empty or longer than 255 bytes (no client could send it).
    public init?(username: String, password: String) {
        guard (1...255).contains(username.utf8.count), (1...255).contains(password.utf8.count) else { return nil }
        self.username = username
        self.password = password
    }
}
