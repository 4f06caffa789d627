import Foundation
import Glibc
import XCTest
@testable import TaplineTLS
import TaplineTestSupport

/// The client engine against a real, independent TLS server: `openssl s_server
/// -www` on loopback, which answers "GET /" with a status page and closes.
final class OpenSSLServerInteropTests: XCTestCase {
    private var directory = ""
    private var server: TestPeerProcess?

    override func tearDown() {
        server?.stop()
        super.tearDown()
    }

    /// Starts s_server with a self-signed certificate for upstream.test; returns its port.
    private func startServer(_ extra: [String]) throws -> UInt16 {
        let openssl = try opensslPath()
        directory = try makeTemporaryDirectory(self)
        let made = try runCommand(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                            "-subj", "/CN=upstream.test", "-addext", "subjectAltName=DNS:upstream.test",
                                            "-days", "2", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"])
        XCTAssertEqual(made.status, 0, made.errorOutput)
        let port = try LoopbackPort.free()
        server = try TestPeerProcess(openssl, ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory + "/cert.pem",
                                               "-key", directory + "/key.pem", "-www", "-quiet", "-naccept", "1"] + extra,
                                     port: port)
        return port
    }

    /// Connects (retrying while s_server starts), then runs `engine` until the server closes.
    private func exchange(port: UInt16, engine: TLSEngine) throws -> (response: String, error: TLSError?) {
        // s_server accepts one connection (-naccept 1): this one, retried while it starts.
        var fd: Int32 = -1
        for _ in 0..<200 {
            if let connected = LoopbackPort.connect(port) {
                fd = connected
                break
            }
            usleep(25_000)
        }
        guard fd >= 0 else { throw XCTSkip("openssl s_server did not start") }
        defer { Glibc.close(fd) }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func flush() {
            let bytes = engine.takeOutgoingCiphertext()
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                offset += n
            }
        }
        try engine.send(plaintext: Array("GET / HTTP/1.0\r\n\r\n".utf8))  // queued until established
        try engine.startHandshake()
        flush()
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while !engine.peerClosed {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            do {
                response += try engine.receive(ciphertext: buffer[0..<n])
            } catch {
                flush()
                return (String(decoding: response, as: UTF8.self), error)
            }
            flush()
        }
        return (String(decoding: response, as: UTF8.self), nil)
    }

    func testClientEngineTLS12AgainstOpenSSLServer() throws {
        let port = try startServer(["-tls1_2", "-alpn", "http/1.1"])
        let engine = try TLSEngine(client: TLSClientConfiguration(serverName: "upstream.test", alpn: ["h2", "http/1.1"],
                                                                  additionalTrustPEMFile: directory + "/cert.pem"))
        let (response, error) = try exchange(port: port, engine: engine)
        XCTAssertNil(error)
        XCTAssertTrue(response.hasPrefix("HTTP/1.0 200 ok"), response)
        XCTAssertEqual(engine.protocolVersion, "TLSv1.2")
        XCTAssertEqual(engine.negotiatedALPN, "http/1.1")
        XCTAssertEqual(engine.peerCertificate?.subject, "CN=upstream.test")
        XCTAssertEqual(engine.peerCertificate?.issuer, "CN=upstream.test")
        XCTAssertNotNil(engine.cipherName)
    }

    func testClientEngineTLS13AgainstOpenSSLServerRejectsAnUntrustedCertificate() throws {
        let port = try startServer(["-tls1_3"])
        let engine = try TLSEngine(client: TLSClientConfiguration(serverName: "upstream.test"))
        let (_, error) = try exchange(port: port, engine: engine)
        XCTAssertEqual(error, .certificateVerificationFailed("self-signed certificate"))
    }
}
