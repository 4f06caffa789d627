import Foundation
import TaplineTLS

/// Hosts switched to pass-through for the rest of the run because their client
/// pins its certificate: after `threshold` interceptions in a row that the client
/// rejected (`countsAsRejection`), the host's later tunnels are relayed untouched,
/// like a `--passthrough` host. A handshake the client completes resets the host's
/// count; other failures leave it alone. Once switched, a host stays switched.
///
/// Thread ownership: one table per `ProxyServer`, shared by every event loop; a
/// lock guards it (taken once per intercepted TLS handshake and per tunnel's
/// pass-through check, never per byte).
final class AutoPassthroughTable: @unchecked Sendable {
    /// Rejections in a row that switch a host (`--auto-passthrough-after`, at least 1).
    let threshold: Int
    private let lock = NSLock()
    private var rejectionsInARow: [String: Int] = [:]
    private var passedThrough: Set<String> = []

    init(threshold: Int) {
        self.threshold = max(1, threshold)
    }

    /// True when `host` was switched to pass-through.
    func isPassedThrough(_ host: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return passedThrough.contains(host)
    }

    /// The client rejected our certificate for `host`. Returns true exactly once
    /// per host: when this rejection switches it (the caller logs it then).
    func recordRejection(of host: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !passedThrough.contains(host) else { return false }
        let count = rejectionsInARow[host, default: 0] + 1
        guard count >= threshold else {
            rejectionsInARow[host] = count
            return false
        }
        rejectionsInARow[host] = nil
        passedThrough.insert(host)
        return true
    }

    /// The client accepted our certificate for `host`: its count starts over.
    func recordAcceptance(of host: String) {
        lock.lock()
        defer { lock.unlock() }
        rejectionsInARow[host] = nil
    }

    /// Whether a failed client handshake looks like the client refusing our
    /// certificate: an alert about the certificate or CA, or the client closing
    /// the connection during the handshake (what clients that pin do after
    /// seeing our ServerHello and certificate).
    static func countsAsRejection(_ error: TLSError) -> Bool {
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
