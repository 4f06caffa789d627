import XCTest
@testable import TaplineCLI

/// The listeners session.json records, as `tapline sessions` and `show --flow` word them.
final class ProxyListenersTextTests: XCTestCase {
    private let run = ["mode": "forward", "listen": "127.0.0.1:8080", "socks5": "127.0.0.1:1080",
                       "transparent": "127.0.0.1:40000, [::1]:40001", "transparentNamespace": "tapline-run-42"]

    func testEveryListenerInOneLine() {
        XCTAssertEqual(ProxyListenersText.all(run),
                       "127.0.0.1:8080, socks5 127.0.0.1:1080, transparent 127.0.0.1:40000, [::1]:40001 in tapline-run-42")
        XCTAssertEqual(ProxyListenersText.all(["mode": "forward", "listen": "127.0.0.1:8080"]), "127.0.0.1:8080")
        XCTAssertEqual(ProxyListenersText.all(["mode": "import", "source": "x.har"]), "")
    }

    func testTheListenerAConnectionArrivedOnIsNamedByKind() {
        XCTAssertEqual(ProxyListenersText.describe("[::1]:40001", proxy: run), "[::1]:40001 (transparent, in tapline-run-42)")
        XCTAssertEqual(ProxyListenersText.describe("127.0.0.1:40000", proxy: run), "127.0.0.1:40000 (transparent, in tapline-run-42)")
        XCTAssertEqual(ProxyListenersText.describe("127.0.0.1:1080", proxy: run), "127.0.0.1:1080 (SOCKS5)")
        XCTAssertEqual(ProxyListenersText.describe("127.0.0.1:8080", proxy: run), "127.0.0.1:8080 (forward)")
        XCTAssertEqual(ProxyListenersText.describe("127.0.0.1:9", proxy: run), "127.0.0.1:9", "not one the session recorded")
    }
}
