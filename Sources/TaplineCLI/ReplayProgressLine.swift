import Foundation
import TaplineNet
import TaplineReplay

/// The progress line `tapline replay` keeps rewriting on a terminal's stderr:
/// `replay: 120/500 flows, 85.3/s, 2 errors, ETA 4s` (`, 1 skipped` after the errors
/// once a flow was found unsendable when its turn came). Written at most every
/// `interval` and once at the end; nothing when stderr is not a terminal.
///
/// Thread ownership: called on the replay's loop only.
final class ReplayProgressLine {
    private static let intervalNanoseconds: UInt64 = 200_000_000
    private let enabled: Bool
    private let started = MonotonicClock.nanoseconds()
    private var lastWritten: UInt64 = 0
    private var wroteAny = false

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func update(_ progress: ReplayProgress) {
        guard enabled else { return }
        let now = MonotonicClock.nanoseconds()
        guard progress.done == progress.total || now - lastWritten >= Self.intervalNanoseconds else { return }
        lastWritten = now
        wroteAny = true
        StandardError.write("\r\u{1B}[K" + Self.text(progress, elapsedSeconds: Double(now - started) / 1e9))
    }

    /// Ends the line so later output starts on its own.
    func finish() {
        if wroteAny { StandardError.write("\n") }
    }

    static func text(_ progress: ReplayProgress, elapsedSeconds: Double) -> String {
        let rate = elapsedSeconds > 0 ? Double(progress.done) / elapsedSeconds : 0
        let left = progress.total - progress.done
        let eta = rate > 0 ? String(format: "%.0fs", Double(left) / rate) : "?"
        let skipped = progress.skipped > 0 ? ", \(progress.skipped) skipped" : ""
        return String(format: "replay: %d/%d flows, %.1f/s, %d error%@%@, ETA %@", progress.done, progress.total, rate,
                      progress.failed, progress.failed == 1 ? "" : "s", skipped, eta)
    }
}
