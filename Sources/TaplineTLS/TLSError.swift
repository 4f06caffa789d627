/// TLS failures, with OpenSSL's reason and a hint a user can act on.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The handshake failed. `alert` is the TLS alert description when one was
    /// sent or received (e.g. "unknown ca", "bad certificate").
    case handshakeFailed(reason: String, alert: String?)
    /// The upstream certificate did not verify (OpenSSL's verify message).
    case certificateVerificationFailed(String)
    /// A record could not be decrypted or the peer broke the protocol.
    case protocolError(String)
    /// CA or certificate files: what went wrong, and with which file.
    case certificateAuthority(String)
    /// A server certificate or key file given by the user (`--cert`, `--key`):
    /// what is wrong, with which file, and what to do.
    case certificateFile(String)

    public var description: String {
        switch self {
        case .handshakeFailed(let reason, let alert):
            return alert.map { "TLS handshake failed: \(reason) (alert: \($0))" } ?? "TLS handshake failed: \(reason)"
        case .certificateVerificationFailed(let m):
            return "upstream certificate verification failed: \(m) (use --upstream-ca FILE or --insecure)"
        case .protocolError(let m): return "TLS protocol error: \(m)"
        case .certificateAuthority(let m), .certificateFile(let m): return m
        }
    }
}
