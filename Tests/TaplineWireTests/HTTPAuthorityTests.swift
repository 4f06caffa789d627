import XCTest
@testable import TaplineWire

final class HTTPAuthorityTests: XCTestCase {
    private func split(_ text: String) -> String {
        guard let authority = HTTPAuthority(text[...]) else { return "nil" }
        return "\(authority.host)|\(authority.isBracketed)|\(authority.port.map(String.init) ?? "none")"
    }

    func testHostAndPortAreSplitAtTheLastColonOrAfterTheBracket() {
        XCTAssertEqual(split("example.com"), "example.com|false|none")
        XCTAssertEqual(split("example.com:8443"), "example.com|false|8443")
        XCTAssertEqual(split("example.com:"), "example.com|false|")
        XCTAssertEqual(split(":80"), "|false|80")
        XCTAssertEqual(split(""), "|false|none")
        XCTAssertEqual(split("[::1]"), "::1|true|none")
        XCTAssertEqual(split("[::1]:8080"), "::1|true|8080")
        XCTAssertEqual(split("[fe80::1%25eth0]:1"), "fe80::1%25eth0|true|1")
        XCTAssertEqual(split("[]"), "|true|none")
        // Without brackets an IPv6 literal is split at its last colon, as RFC 3986 reads it.
        XCTAssertEqual(split("::1"), ":|false|1")
        XCTAssertEqual(split("bücher.de:80"), "bücher.de|false|80")
    }

    func testABracketWithoutItsCloseOrWithTextAfterItIsRefused() {
        XCTAssertEqual(split("[::1"), "nil")
        XCTAssertEqual(split("[::1]x"), "nil")
        XCTAssertEqual(split("[::1]8080"), "nil")
    }

    func testAConnectablePortIsOneToFiveDigitsFromOneTo65535() {
        XCTAssertEqual(HTTPAuthority.connectablePort("1"), 1)
        XCTAssertEqual(HTTPAuthority.connectablePort("65535"), 65535)
        XCTAssertEqual(HTTPAuthority.connectablePort("00080"), 80)
        for refused in ["", "0", "65536", "000080", "+80", "-1", "8o", " 80", "٨٠"] {
            XCTAssertNil(HTTPAuthority.connectablePort(refused[...]), refused)
        }
    }
}
