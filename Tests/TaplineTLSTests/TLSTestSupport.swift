import Foundation
import Glibc
import XCTest
@testable import TaplineTLS

/// A fresh temporary directory, removed at the end of the test.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "tapline-tls-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// POSIX permission bits of `path`.
func permissions(of path: String) -> mode_t {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    return info.st_mode & 0o7777
}

/// The openssl command line tool, or a skip.
func opensslPath() throws -> String {
    for path in ["/usr/bin/openssl", "/usr/local/bin/openssl"] where FileManager.default.isExecutableFile(atPath: path) {
        return path
    }
    throw XCTSkip("the openssl command is not installed")
}

/// Two engines wired back to back in memory: `run()` moves ciphertext both ways
/// until neither side has anything left to send, optionally in small chunks.
final class EnginePair {
    let client: TLSEngine
    let server: TLSEngine
    var clientReceived: [UInt8] = []
    var serverReceived: [UInt8] = []
    var clientError: TLSError?
    var serverError: TLSError?
    /// Feed at most this many bytes per `receive` call (nil: everything at once).
    var chunkSize: Int?

    init(client: TLSEngine, server: TLSEngine) {
        self.client = client
        self.server = server
    }

    func run(maxRounds: Int = 50) {
        for _ in 0..<maxRounds {
            let toServer = client.takeOutgoingCiphertext()
            let toClient = server.takeOutgoingCiphertext()
            if toServer.isEmpty, toClient.isEmpty { return }
            if serverError == nil {
                for chunk in chunks(toServer) {
                    do { serverReceived += try server.receive(ciphertext: chunk) } catch { serverError = error; break }
                }
            }
            if clientError == nil {
                for chunk in chunks(toClient) {
                    do { clientReceived += try client.receive(ciphertext: chunk) } catch { clientError = error; break }
                }
            }
        }
    }

    private func chunks(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        guard !bytes.isEmpty else { return [] }
        let size = chunkSize ?? bytes.count
        return stride(from: 0, to: bytes.count, by: size).map { bytes[$0..<min($0 + size, bytes.count)] }
    }
}
