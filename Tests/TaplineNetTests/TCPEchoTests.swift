import TaplineNet
import XCTest

/// Bulk data through a real echo server: a listener on one loop, a client on another.
final class TCPEchoTests: XCTestCase {
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 2)
    }

    override func tearDown() {
        group?.shutdown()
        group = nil
    }

    func testTenMegabytesBothWaysArriveIntact() throws {
        try echo(host: "127.0.0.1", size: 10 * 1024 * 1024)
    }

    func testIPv6LoopbackEcho() throws {
        let loop = group.loops[0]
        let available = try LoopRunner.run(loop) { () -> Bool in
            guard let address = try? SocketAddress(host: "::1", port: 0),
                  let listener = try? TCPListener(loop: loop, address: address, onAccept: { _ in })
            else { return false }
            listener.close()
            return true
        }
        try XCTSkipUnless(available, "::1 is not available on this machine")
        try echo(host: "::1", size: 2 * 1024 * 1024)
    }

    private func echo(host: String, size: Int) throws {
        let serverLoop = group.loops[0]
        let clientLoop = group.loops[1]
        let payload = StreamChecksum.testData(count: size)
        var expected = StreamChecksum()
        expected.update(payload)

        let serverClosed = expectation(description: "server side closed")
        let clientClosed = expectation(description: "client side closed")
        let server = try LoopRunner.run(serverLoop) { () -> EchoServer in
            let server = try EchoServer(loop: serverLoop, address: SocketAddress(host: host, port: 0))
            server.onHandlerClosed = { _ in serverClosed.fulfill() }
            return server
        }
        let address = try LoopRunner.run(serverLoop) { server.address }
        XCTAssertNotEqual(address.port, 0)
        XCTAssertEqual(address.family, host.contains(":") ? .ipv6 : .ipv4)

        let client = try LoopRunner.run(clientLoop) { () -> StreamClient in
            let client = StreamClient(loop: clientLoop)
            client.onClose = { _ in clientClosed.fulfill() }
            client.onConnectFailure = { error in XCTFail("connect failed: \(error)") }
            client.start(to: address, payload: payload, halfClose: true)
            return client
        }
        wait(for: [serverClosed, clientClosed], timeout: 60)

        let (serverSum, serverErrors) = try LoopRunner.run(serverLoop) {
            (server.handlers.first?.checksum, server.handlers.first?.closeErrors ?? [])
        }
        let (clientSum, clientErrors, sawEOF, counters) = try LoopRunner.run(clientLoop) {
            (client.received, client.closeErrors, client.sawEOF,
             (client.connection?.bytesRead ?? 0, client.connection?.bytesWritten ?? 0))
        }
        XCTAssertEqual(serverSum, expected, "server received different bytes")
        XCTAssertEqual(clientSum, expected, "echo came back different")
        XCTAssertEqual(serverErrors.count, 1)
        XCTAssertEqual(clientErrors.count, 1)
        XCTAssertNil(serverErrors.first ?? nil)
        XCTAssertNil(clientErrors.first ?? nil)
        XCTAssertTrue(sawEOF)
        XCTAssertEqual(counters.0, UInt64(size))
        XCTAssertEqual(counters.1, UInt64(size))
    }
}
