import Foundation

/// What a command a test ran printed, and how it exited (`runCommand`).
public struct CommandResult: Sendable {
    public var status: Int32
    public var output: String
    public var errorOutput: String
}

/// Runs `executable` with `arguments` to its end, feeding `input` on stdin; killed
/// after `timeout` seconds. For tools a test calls once (openssl req, openssl x509);
/// a server the test talks to is a `TestPeerProcess`.
public func runCommand(_ executable: String, _ arguments: [String], input: String = "",
                       timeout: TimeInterval = 30) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let directory = NSTemporaryDirectory() + "tapline-cmd-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    _ = FileManager.default.createFile(atPath: directory + "/out", contents: nil)
    _ = FileManager.default.createFile(atPath: directory + "/err", contents: nil)
    let stdout = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/out"))
    let stderr = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/err"))
    // stdin is a file, not a pipe: a command that exits before reading it (openssl
    // s_client refusing the handshake) must not make the write fail with EPIPE.
    _ = FileManager.default.createFile(atPath: directory + "/in", contents: Data(input.utf8))
    let stdin = try FileHandle(forReadingFrom: URL(fileURLWithPath: directory + "/in"))
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = stdin
    try process.run()
    try stdin.close()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning, Date() < deadline { usleep(10_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    try stdout.close()
    try stderr.close()
    let output = (try? String(contentsOfFile: directory + "/out", encoding: .utf8)) ?? ""
    let errorOutput = (try? String(contentsOfFile: directory + "/err", encoding: .utf8)) ?? ""
    return CommandResult(status: process.terminationStatus, output: output, errorOutput: errorOutput)
}
