import XCTest
import TaplineNet
@testable import TaplineProxy

/// Where a connection on the transparent listener is tunnelled, and when it is refused.
final class TransparentDestinationTests: XCTestCase {
    private func address(_ text: String) throws -> SocketAddress { try SocketAddress(parsing: text) }

    func testARedirectedConnectionGoesToItsOriginalDestination() throws {
        let listener = try address("127.0.0.1:9090")
        let result = TransparentDestination.resolve(original: try address("10.1.2.3:443"), listener: listener,
                                                    ownListeners: [try address("127.0.0.1:8080"), listener])
        XCTAssertEqual(try result.get(), try address("10.1.2.3:443"))
    }

    func testNoOriginalDestinationIsRefusedAsNotRedirected() throws {
        let listener = try address("127.0.0.1:9090")
        let result = TransparentDestination.resolve(original: nil, listener: listener, ownListeners: [listener])
        XCTAssertEqual(result, .failure(.notRedirected(listener: listener)))
        XCTAssertTrue(TransparentDestination.Refusal.notRedirected(listener: listener).description.contains("redirect"))
    }

    func testADestinationThatIsOneOfOurListenersIsALoop() throws {
        let listener = try address("127.0.0.1:9090")
        let own = [try address("127.0.0.1:8080"), try address("0.0.0.0:1080"), listener]
        for original in ["127.0.0.1:9090", "127.0.0.1:8080", "10.9.9.9:1080"] {
            let result = TransparentDestination.resolve(original: try address(original), listener: listener, ownListeners: own)
            XCTAssertEqual(result, .failure(.loop(try address(original))), original)
        }
        // Same port on another address: not ours.
        let other = TransparentDestination.resolve(original: try address("10.9.9.9:8080"), listener: listener, ownListeners: own)
        XCTAssertEqual(try other.get(), try address("10.9.9.9:8080"))
    }

    func testTheOriginalDestinationIsTheNATRecordElseATproxiedSocketsLocalAddress() throws {
        let listener = try address("127.0.0.1:9090")
        // redirect: the kernel's NAT record, whatever the local address (the listener's).
        XCTAssertEqual(TransparentDestination.original(natOriginal: try address("10.1.2.3:443"), acceptedLocal: listener,
                                                       listener: listener), try address("10.1.2.3:443"))
        // tproxy: no NAT record; the accepted socket's local address is what the client addressed (IPv4 and IPv6).
        for local in ["10.1.2.3:443", "[2001:db8::5]:8443"] {
            XCTAssertEqual(TransparentDestination.original(natOriginal: nil, acceptedLocal: try address(local), listener: listener),
                           try address(local))
        }
        // Neither: the client connected to the listener itself.
        XCTAssertNil(TransparentDestination.original(natOriginal: nil, acceptedLocal: listener, listener: listener))
    }
}
