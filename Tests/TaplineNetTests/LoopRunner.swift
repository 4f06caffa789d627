import Foundation
import TaplineNet
import XCTest

/// Runs closures on an event loop from the test thread and waits for them.
enum LoopRunner {
    struct Timeout: Error, CustomStringConvertible {
        var description: String { "the event loop did not run the task in time" }
    }

    /// Runs `body` on `loop` and returns its result (waits at most 10 s).
    static func run<T: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = SyncBox<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            result.value = Result { try body() }
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success, let outcome = result.value else { throw Timeout() }
        return try outcome.get()
    }
}
