import TaplineNet
import XCTest

final class SocketAddressTests: XCTestCase {
    func testParsesGoodAddresses() throws {
        let v4 = try SocketAddress(parsing: "127.0.0.1:8080")
        XCTAssertEqual(v4.host, "127.0.0.1")
        XCTAssertEqual(v4.port, 8080)
        XCTAssertEqual(v4.family, .ipv4)
        XCTAssertEqual(v4.description, "127.0.0.1:8080")
        XCTAssertTrue(v4.isLoopback)

        let v6 = try SocketAddress(parsing: "[::1]:8080")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.family, .ipv6)
        XCTAssertEqual(v6.description, "[::1]:8080")
        XCTAssertTrue(v6.isLoopback)

        XCTAssertEqual(try SocketAddress(parsing: "0.0.0.0:0").port, 0)
        XCTAssertEqual(try SocketAddress(parsing: "10.1.2.3:65535").port, 65535)
        XCTAssertFalse(try SocketAddress(parsing: "10.1.2.3:1").isLoopback)
        // Canonical form: equal however written; brackets optional for init(host:port:).
        XCTAssertEqual(try SocketAddress(parsing: "[0:0:0:0:0:0:0:1]:80"), try SocketAddress(host: "::1", port: 80))
        XCTAssertEqual(try SocketAddress(host: "[FE80::A]", port: 1).host, "fe80::a")
        XCTAssertEqual(try SocketAddress(parsing: "[::ffff:1.2.3.4]:9").host, "::ffff:1.2.3.4")
    }

    func testRejectsBadAddresses() {
        let bad = ["localhost:80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
                   "::1:80", "[::1:80", "::1]:80", "[::1]", "1.2.3:80", "256.1.1.1:80", "[127.0.0.1:80",
                   ":80", "[]:80", "1.2.3.4:8o", "", "example.com:443", "[::g]:1", "127.0.0.1:0080000"]
        for text in bad {
            XCTAssertThrowsError(try SocketAddress(parsing: text), text) { error in
                XCTAssertEqual(error as? NetError, .invalidAddress(text), text)
            }
        }
        XCTAssertThrowsError(try SocketAddress(host: "127.0.0.1", port: 65536))
        XCTAssertThrowsError(try SocketAddress(host: "127.0.0.1", port: -1))
        XCTAssertThrowsError(try SocketAddress(host: "", port: 1))
        XCTAssertThrowsError(try SocketAddress(host: "host.example", port: 1))
    }

    func testErrorMessagesNameTheProblem() {
        XCTAssertEqual(NetError.invalidAddress("x").description, "invalid address \"x\" (expected host:port)")
        XCTAssertTrue(NetError.addressInUse("127.0.0.1:80").description.contains("already in use"))
        XCTAssertTrue(NetError.system(call: "bind", errno: EACCES).description.hasPrefix("bind failed: "))
    }
}
