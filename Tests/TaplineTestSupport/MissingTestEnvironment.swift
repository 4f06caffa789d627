import Foundation
import XCTest

/// A test needs something of the machine it runs on that is not there (a tool, a
/// server program, a file system), and may not skip: in CI every test must run.
/// Thrown, it fails the test with `message`.
public struct MissingTestEnvironment: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }

    /// What a test throws when this machine lacks what it needs: an `XCTSkip` with
    /// `message` locally, or a `MissingTestEnvironment` (a failure) when `CI` is set.
    public static func skipOrFail(_ message: String) -> any Error {
        if ProcessInfo.processInfo.environment["CI"].map({ !$0.isEmpty && $0 != "0" && $0 != "false" }) ?? false {
            return MissingTestEnvironment(message: message + " (CI is set, so this fails instead of skipping)")
        }
        return XCTSkip(message)
    }
}
