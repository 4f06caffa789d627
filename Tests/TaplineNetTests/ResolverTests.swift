import TaplineNet
import XCTest

final class ResolverTests: XCTestCase {
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 1)
    }

    override func tearDown() {
        group?.shutdown()
        group = nil
    }

    private func resolve(_ host: String, port: Int) throws -> (Result<[SocketAddress], NetError>, Bool) {
        let loop = group.loops[0]
        let done = expectation(description: "resolved \(host)")
        let outcome = SyncBox<(Result<[SocketAddress], NetError>, Bool)?>(nil)
        try LoopRunner.run(loop) {
            var returned = false
            Resolver.resolve(host: host, port: port, on: loop) { result in
                outcome.value = (result, returned && loop.inEventLoop)
                done.fulfill()
            }
            returned = true
        }
        wait(for: [done], timeout: 30)
        return try XCTUnwrap(outcome.value)
    }

    func testLocalhostResolvesToLoopback() throws {
        let (result, asynchronous) = try resolve("localhost", port: 8080)
        let addresses = try result.get()
        XCTAssertFalse(addresses.isEmpty)
        XCTAssertTrue(addresses.allSatisfy { $0.isLoopback && $0.port == 8080 }, "\(addresses)")
        XCTAssertTrue(asynchronous)
    }

    func testNumericHostsResolveWithoutLookupButStillLater() throws {
        let (v4, async4) = try resolve("127.0.0.1", port: 1)
        XCTAssertEqual(try v4.get(), [try SocketAddress(host: "127.0.0.1", port: 1)])
        XCTAssertTrue(async4)
        let (v6, async6) = try resolve("[::1]", port: 443)
        XCTAssertEqual(try v6.get().map(\.description), ["[::1]:443"])
        XCTAssertTrue(async6)
    }

    func testBadPortAndEmptyHostFail() throws {
        let (badPort, _) = try resolve("localhost", port: 70000)
        XCTAssertThrowsError(try badPort.get()) { XCTAssertEqual($0 as? NetError, .invalidAddress("localhost:70000")) }
        let (empty, _) = try resolve("", port: 80)
        XCTAssertThrowsError(try empty.get()) { error in
            guard case .resolveFailed(let host, _) = error as? NetError else { return XCTFail("\(error)") }
            XCTAssertEqual(host, "")
        }
    }
}
