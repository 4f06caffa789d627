import Foundation
import XCTest

/// Runs a small Python 3 program with its `zlib` module to make (or check)
/// compressed fixtures, so that Tapline's wrapper is tested against an
/// independent implementation rather than against itself.
enum PythonZlib {
    /// Runs `script` (which reads stdin as `data = sys.stdin.buffer.read()` and writes
    /// bytes to stdout) and returns its output.
    static func run(_ script: String, input: [UInt8] = [], file: StaticString = #filePath,
                    line: UInt = #line) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let program = "import sys, zlib, gzip\ndata = sys.stdin.buffer.read()\n" + script
        process.arguments = ["python3", "-c", program]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write on another thread: a large input would otherwise deadlock against a full stdout pipe.
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            XCTFail("python3 failed: \(String(decoding: errors, as: UTF8.self))", file: file, line: line)
            return []
        }
        return [UInt8](output)
    }

    /// Text-like sample data with repetition near and far (so back-references span the window).
    static func sample(count: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        let words = ["tapline ", "proxy ", "websocket ", "deflate ", "frame ", "message ", "0123456789 ", "\n"]
        while bytes.count < count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let word = words[Int(state >> 33) % words.count]
            bytes.append(contentsOf: word.utf8)
            if (state >> 20) & 7 == 0 { bytes.append(UInt8(truncatingIfNeeded: state >> 40)) }
        }
        return Array(bytes.prefix(count))
    }
}
