import TaplineNet
import XCTest

final class TCPListenerTests: XCTestCase {
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 2)
    }

    override func tearDown() {
        group?.shutdown()
        group = nil
    }

    func testSecondBindWithoutReusePortIsAddressInUse() throws {
        let loop = group.loops[0]
        try LoopRunner.run(loop) {
            let first = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0),
                                        reusePort: false) { _ in }
            XCTAssertNotEqual(first.localAddress.port, 0)
            XCTAssertThrowsError(try TCPListener(loop: loop, address: first.localAddress, reusePort: false) { _ in }) {
                XCTAssertEqual($0 as? NetError, .addressInUse(first.localAddress.description))
            }
            first.close()
            first.close()  // idempotent
        }
    }

    func testReusePortListenersOnEveryLoopShareConnections() throws {
        // Created from the test thread (not a loop thread): registration is posted.
        let first = try TCPListener(loop: group.loops[0], address: SocketAddress(host: "127.0.0.1", port: 0),
                                    reusePort: true) { $0.close() }
        let second = try TCPListener(loop: group.loops[1], address: first.localAddress, reusePort: true) { $0.close() }
        XCTAssertEqual(first.localAddress, second.localAddress)
        let address = first.localAddress

        let clientLoop = group.loops[1]
        let closed = expectation(description: "clients saw the server close")
        closed.expectedFulfillmentCount = 20
        let clients = try LoopRunner.run(clientLoop) { () -> [ScriptedClient] in
            (0..<20).map { _ in
                let client = ScriptedClient(loop: clientLoop)
                client.handler.onEOF = { $0.close() }
                client.handler.onClose = { _, _ in closed.fulfill() }
                client.connect(to: address) { _ in }
                return client
            }
        }
        wait(for: [closed], timeout: 10)
        let results = try LoopRunner.run(clientLoop) { clients.map(\.handler.closeErrors) }
        XCTAssertTrue(results.allSatisfy { $0 == [nil] }, "\(results)")
        let bound1 = LoopBound(first, loop: group.loops[0])
        let bound2 = LoopBound(second, loop: group.loops[1])
        try LoopRunner.run(group.loops[0]) { bound1.value.close() }
        try LoopRunner.run(group.loops[1]) { bound2.value.close() }
    }
}
