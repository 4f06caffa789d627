import Foundation
import Glibc

/// A server a test starts on 127.0.0.1 and talks to (nghttpd, a Python origin,
/// openssl s_server), stopped by `stop()` or when released: every peer a test
/// starts is stopped.
///
/// Its stdout is discarded; its stderr is kept in a temporary file, to say why
/// when it does not come up.
///
/// Thread ownership: the test's thread.
public final class TestPeerProcess {
    /// The program's file name, for messages.
    public let name: String
    /// The loopback port the test told it to listen on.
    public let port: UInt16
    private let process = Process()
    private let errorLogPath: String

    /// Starts `executable` with `arguments`, which make it listen on 127.0.0.1:`port`.
    public init(_ executable: String, _ arguments: [String], port: UInt16) throws {
        name = URL(fileURLWithPath: executable).lastPathComponent
        self.port = port
        errorLogPath = NSTemporaryDirectory() + "tapline-peer-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errorLogPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorLogPath))
        try process.run()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: errorLogPath)
    }

    /// Returns once the server accepts connections on `port`. A server says so no
    /// other way, so this connects every 10 ms (closing each probe at once) until
    /// one succeeds; it throws when the server exits first or `timeout` seconds pass.
    /// Not for a server that accepts only one connection (`openssl s_server -naccept 1`):
    /// the probe would be it.
    public func waitUntilAccepting(timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let fd = LoopbackPort.connect(port) {
                Glibc.close(fd)
                return
            }
            guard process.isRunning else { throw TestPeerDidNotStart(peer: self, reason: "it exited") }
            usleep(10_000)
        }
        throw TestPeerDidNotStart(peer: self, reason: "it did not accept connections within \(timeout) s")
    }

    /// What the server wrote to stderr so far.
    public var errorOutput: String {
        (try? String(contentsOfFile: errorLogPath, encoding: .utf8)) ?? ""
    }

    /// Stops the server (SIGTERM) and waits for it to exit. Idempotent.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
