import XCTest
@testable import TaplineCLI

/// `tapline run --transparent`'s DNS server: `--dns-server`, else resolv.conf's first nameserver.
final class TransparentDNSServerTests: XCTestCase {
    func testDNSServerTakesAnAddressWithOrWithoutAPort() throws {
        XCTAssertEqual(try TransparentDNSServer.parse("127.0.0.53").description, "127.0.0.53:53")
        XCTAssertEqual(try TransparentDNSServer.parse("10.0.0.2:5353").description, "10.0.0.2:5353")
        XCTAssertEqual(try TransparentDNSServer.parse("::1").description, "[::1]:53")
        XCTAssertEqual(try TransparentDNSServer.parse("[::1]:5300").description, "[::1]:5300")
        XCTAssertThrowsError(try TransparentDNSServer.parse("dns.example"))
        XCTAssertThrowsError(try TransparentDNSServer.parse("10.0.0.2:99999"))
    }

    func testTheFirstUsableNameserverOfResolvConf() {
        let conf = """
            # generated
            search example.internal
            options edns0 trust-ad
            nameserver   fe80::1%eth0
            nameserver 10.0.0.2
            """
        XCTAssertEqual(TransparentDNSServer.firstNameserver(inResolvConf: conf)?.description, "10.0.0.2:53",
                       "a link-local address needs its zone, which a socket address here cannot carry")
        XCTAssertEqual(TransparentDNSServer.firstNameserver(inResolvConf: "nameserver\tnot-an-address\nnameserver 1.1.1.1\n")?.description,
                       "1.1.1.1:53")
        XCTAssertNil(TransparentDNSServer.firstNameserver(inResolvConf: "search x\n"))
    }
}
