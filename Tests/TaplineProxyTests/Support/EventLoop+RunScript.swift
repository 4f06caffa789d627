import Foundation
import TaplineNet

extension EventLoop {
    /// Runs `script` on the loop and waits for it; what it throws is rethrown here.
    func runScript(_ script: @escaping @Sendable () throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var thrown: (any Error)?
        execute {
            do { try script() } catch { thrown = error }
            done.signal()
        }
        done.wait()
        if let thrown { throw thrown }
    }
}
