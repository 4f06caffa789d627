import CTaplineLinux
import Foundation

/// Starts the capture's own threads (the writer, the direct-I/O thread) and those of
/// its readers (the replay's `ReplayItemReadAhead`).
public enum CaptureThread {
    /// Runs `body` on a new thread named `name` (at most 15 bytes; set from the thread
    /// itself, because Foundation's `Thread.name` does not reach `top -H` or perf).
    /// `finished` is entered now and left when `body` returns.
    public static func start(named name: String, finished: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let thread = Thread {
            tapline_set_thread_name(name)
            body()
            finished.leave()
        }
        thread.name = name
        thread.start()
    }
}
