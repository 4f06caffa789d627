import Foundation
/// A server a test started did not come up (`TestPeerProcess.waitUntilAccepting`):
/// which one, why, and what it printed.
public struct TestPeerDidNotStart: Error, CustomStringConvertible {
    public let description: String

    init(peer: TestPeerProcess, reason: String) {
        let output = peer.errorOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        description = "\(peer.name) on 127.0.0.1:\(peer.port) did not start: \(reason)"
            + (output.isEmpty ? "" : "; it said: \(output)")
    }
}
