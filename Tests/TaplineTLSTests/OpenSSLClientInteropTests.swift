import Foundation
import XCTest
@testable import TaplineTLS
import TaplineTestSupport

/// The server engine against a real, independent TLS client: `openssl s_client`
/// over a loopback socket, in TLS 1.2 and TLS 1.3.
final class OpenSSLClientInteropTests: XCTestCase {
    private func handshake(version: String, alpn: String?, trustCA: Bool = true) throws -> (CommandResult, BlockingTLSServer.Outcome) {
        let openssl = try opensslPath()
        let ca = try CertificateAuthority(home: try makeTemporaryDirectory(self))
        let server = try BlockingTLSServer(configuration: TLSServerConfiguration(
            certificate: try ca.leafCertificate(for: "example.test"), alpn: alpn))
        var arguments = ["s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "example.test",
                         "-verify_hostname", "example.test", "-verify_return_error", version, "-ign_eof", "-brief",
                         "-alpn", "h2,http/1.1"]
        if trustCA { arguments += ["-CAfile", ca.certificatePath] } else { arguments += ["-no-CAfile", "-no-CApath", "-no-CAstore"] }
        let client = try runCommand(openssl, arguments, input: "ping\n")
        return (client, server.wait())
    }

    func testTLS13WithOpenSSLClient() throws {
        let (client, outcome) = try handshake(version: "-tls1_3", alpn: "http/1.1")
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.protocolVersion, "TLSv1.3")
        XCTAssertEqual(outcome.negotiatedALPN, "http/1.1")
        XCTAssertEqual(outcome.serverName, "example.test")
        XCTAssertEqual(outcome.received, "ping\n")
        XCTAssertTrue(client.output.contains("pong"), client.output + client.errorOutput)
        XCTAssertTrue(client.errorOutput.contains("Verification: OK"), client.errorOutput)
        XCTAssertTrue(client.errorOutput.contains("Protocol version: TLSv1.3"), client.errorOutput)
    }

    func testTLS12WithOpenSSLClient() throws {
        let (client, outcome) = try handshake(version: "-tls1_2", alpn: "h2")
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.protocolVersion, "TLSv1.2")
        XCTAssertEqual(outcome.negotiatedALPN, "h2")
        XCTAssertEqual(outcome.received, "ping\n")
        XCTAssertTrue(client.output.contains("pong"), client.output + client.errorOutput)
        XCTAssertTrue(client.errorOutput.contains("Protocol version: TLSv1.2"), client.errorOutput)
    }

    func testTLS11IsRefused() throws {
        let (_, outcome) = try handshake(version: "-tls1_1", alpn: nil)
        guard case .handshakeFailed? = outcome.error else { return XCTFail("\(String(describing: outcome.error))") }
    }

    func testClientThatDoesNotTrustTheCAIsReportedWithItsAlert() throws {
        let (client, outcome) = try handshake(version: "-tls1_3", alpn: nil, trustCA: false)
        XCTAssertNotEqual(client.status, 0)
        guard case .handshakeFailed(_, let alert)? = outcome.error else { return XCTFail("\(String(describing: outcome.error))") }
        XCTAssertEqual(alert, "unknown ca")
    }
}
