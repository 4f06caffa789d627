@testable import TaplineProxy
import TaplineHTTPClient
import TaplineNet
import XCTest

final class ProxyConfigurationTests: XCTestCase {
    func testUpstreamURLParsing() throws {
        XCTAssertEqual(try UpstreamTarget(url: "https://api.internal:8443"),
                       UpstreamTarget(scheme: .https, host: "api.internal", port: 8443))
        XCTAssertEqual(try UpstreamTarget(url: "http://127.0.0.1/"), UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 80))
        XCTAssertEqual(try UpstreamTarget(url: "http://[::1]:9000").authority, "[::1]:9000")
        XCTAssertThrowsError(try UpstreamTarget(url: "api.internal:8443"))
        XCTAssertThrowsError(try UpstreamTarget(url: "http://host:0"))
        XCTAssertThrowsError(try UpstreamTarget(url: "http://host/path"))
    }

    /// The authority split every forward request and CONNECT goes through: the port is
    /// decimal digits only, and a host is never empty.
    func testAuthoritySplitting() {
        func split(_ text: String) -> String? {
            UpstreamTarget.splitAuthority(text[...], defaultPort: 443).map { "\($0.host)|\($0.port)" }
        }
        XCTAssertEqual(split("example.com"), "example.com|443")
        XCTAssertEqual(split("example.com:8080"), "example.com|8080")
        XCTAssertEqual(split("[::1]"), "::1|443")
        XCTAssertEqual(split("[fe80::1]:65535"), "fe80::1|65535")
        XCTAssertEqual(split("b\u{fc}cher.example:80"), "b\u{fc}cher.example|80")
        for bad in ["", ":80", "host:", "host:0", "host:65536", "host:+80", "host:8 0", "host:000080", "[::1", "[::1]80", "[::1]:x", "a:b:c"] {
            XCTAssertNil(split(bad), bad)
        }
    }

    /// The upstream connector gets every client-side setting the command line gave the proxy.
    func testHTTPClientConfigurationCarriesTheUpstreamSettings() throws {
        var configuration = ProxyConfiguration(listenAddress: try SocketAddress(host: "127.0.0.1", port: 8080))
        configuration.timeouts.connect = 1_234
        configuration.writeHighWatermark = 64 * 1024
        configuration.writeLowWatermark = 16 * 1024
        configuration.verifyUpstreamCertificates = false
        configuration.upstreamTrustFile = "/etc/tapline/upstream-ca.pem"
        var expected = HTTPClientConfiguration()
        expected.connectTimeout = 1_234
        expected.writeHighWatermark = 64 * 1024
        expected.writeLowWatermark = 16 * 1024
        expected.verifyCertificates = false
        expected.additionalTrustFile = "/etc/tapline/upstream-ca.pem"
        XCTAssertEqual(configuration.httpClient, expected)
    }

    func testPassthroughPatterns() {
        XCTAssertTrue(HostPattern("*.example.com").matches("api.EXAMPLE.com"))
        XCTAssertFalse(HostPattern("*.example.com").matches("example.com"))
        XCTAssertFalse(HostPattern("*.example.com").matches("badexample.com"))
        XCTAssertTrue(HostPattern("pinned.app").matches("pinned.app"))
        XCTAssertTrue(HostPattern("*").matches("anything"))
    }

    func testClientRejectionHintNamesPassthrough() {
        let text = ConnectTunnelHandler.describeClientRejection(
            .handshakeFailed(reason: "alert", alert: "unknown ca"), host: "pinned.app")
        XCTAssertTrue(text.contains("--passthrough pinned.app"), text)
    }
}
