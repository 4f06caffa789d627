import Foundation
import TaplineTLS

/// Hosts switched to pass-through for the rest of the run because their client
/// pins its certificate: after `threshold` interceptions in a row that the client
/// rejected (`InterceptedClientOutcome.verdict`: a certificate alert or a close
/// during the handshake, or a close right after it with no request byte), the
/// host's later tunnels are relayed untouched, like a `--passthrough` host. A
/// client that sends a request resets the host's count; other failures leave it
/// alone. Once switched, a host stays switched.
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

    /// Counts what a client did with an intercepted connection to `host`. Returns
    /// true exactly once per host: when this outcome switches it (the caller logs it then).
    func record(_ outcome: InterceptedClientOutcome, for host: String) -> Bool {
        switch outcome.verdict {
        case .rejection: return recordRejection(of: host)
        case .acceptance: recordAcceptance(of: host)
        case .neutral: break
        }
        return false
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
}
