import TaplineTLS

/// What a client did with a TLS connection Tapline intercepted (served its own leaf
/// on), as far as telling a client that pins its certificate goes. Pure value.
///
/// Clients that pin refuse our leaf in one of two ways: during the handshake (an
/// alert such as `bad certificate`, or closing the connection after our
/// certificate), or — OkHttp, and anything that checks its pins only once the TLS
/// library has finished — by completing the handshake and then closing, or
/// sending an alert, before writing a single byte of a request.
enum InterceptedClientOutcome: Equatable, Sendable {
    /// The client's handshake failed.
    case handshakeFailed(TLSError)
    /// The handshake completed, then the connection ended (EOF, alert, reset)
    /// before the client sent one byte of application data.
    case closedBeforeRequest
    /// The handshake completed and the client sent application data: it accepts the leaf.
    case sentRequest

    /// How an outcome counts toward switching the host to pass-through.
    enum Verdict: Equatable, Sendable {
        /// One more rejection in a row.
        case rejection
        /// The client accepted our certificate: the count starts over.
        case acceptance
        /// Neither (a failure unrelated to the certificate): the count is left alone.
        case neutral
    }

    var verdict: Verdict {
        switch self {
        case .handshakeFailed(let error): return Self.refusesCertificate(error) ? .rejection : .neutral
        case .closedBeforeRequest: return .rejection
        case .sentRequest: return .acceptance
        }
    }

    /// Whether a failed client handshake looks like the client refusing our
    /// certificate: an alert about the certificate or CA, or the client closing
    /// the connection during the handshake (what clients that pin do after
    /// seeing our ServerHello and certificate).
    static func refusesCertificate(_ error: TLSError) -> Bool {
        guard case .handshakeFailed(let reason, let alert) = error else { return false }
        guard let alert else {
            let reason = reason.lowercased()
            return reason.contains("closed") || reason.contains("reset")
        }
        return certificateAlerts.contains(where: alert.lowercased().contains)
    }

    /// TLS alert descriptions (as OpenSSL words them) that mean "I do not accept this certificate".
    static let certificateAlerts = ["unknown ca", "bad certificate", "certificate unknown", "unsupported certificate",
                                    "certificate revoked", "certificate expired", "access denied"]
}
