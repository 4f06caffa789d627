import Glibc
@testable import TaplineNet
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

    func testSecondBindOfAnAddressIsAddressInUse() throws {
        let loop = group.loops[0]
        try LoopRunner.run(loop) {
            let first = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0)) { _ in }
            XCTAssertNotEqual(first.localAddress.port, 0)
            XCTAssertThrowsError(try TCPListener(loop: loop, address: first.localAddress) { _ in }) {
                XCTAssertEqual($0 as? NetError, .addressInUse(first.localAddress.description))
            }
            first.close()
            first.close()  // idempotent
        }
    }

    func testDistributingListenerHandsConnectionsToTheLoopsInTurn() throws {
        let accepted = SyncBox<[(loop: Int, onItsLoop: Bool)]>([])
        let all = expectation(description: "ten connections accepted")
        all.expectedFulfillmentCount = 10
        let listener = try TCPListener(distributingTo: group.loops,
                                       address: SocketAddress(host: "127.0.0.1", port: 0)) { connection in
            accepted.mutate { $0.append((connection.loop.index, connection.loop.inEventLoop)) }
            // Registered with its own loop: a write there reaches the client.
            connection.write(Array("loop \(connection.loop.index)".utf8))
            connection.closeAfterFlush()
            all.fulfill()
        }
        let clients = try (0..<10).map { _ in
            try XCTUnwrap(RawTCPSocket.connected(port: listener.localAddress.port))
        }
        wait(for: [all], timeout: 10)
        let loops = accepted.value.map(\.loop)
        XCTAssertEqual(loops.filter { $0 == 0 }.count, 5, "\(loops)")
        XCTAssertEqual(loops.filter { $0 == 1 }.count, 5, "\(loops)")
        XCTAssertTrue(accepted.value.allSatisfy(\.onItsLoop), "onAccept ran off the connection's loop")
        var greetings: [String] = []
        for client in clients {
            let bytes = try XCTUnwrap(client.receive(), "no greeting within 5 s")
            greetings.append(String(decoding: bytes, as: UTF8.self))
            XCTAssertEqual(client.receive(), [], "the connection was not closed after its greeting")
        }
        XCTAssertEqual(greetings.sorted(), ["loop 0", "loop 0", "loop 0", "loop 0", "loop 0",
                                            "loop 1", "loop 1", "loop 1", "loop 1", "loop 1"])
        let bound = LoopBound(listener, loop: group.loops[0])
        try LoopRunner.run(group.loops[0]) { bound.value.close() }
    }

    func testSocketHandedToAStoppedLoopIsClosedNotLeaked() throws {
        let stopped = try EventLoopGroup(threads: 1)
        stopped.shutdown()
        let kept = SyncBox<[TCPConnection]>([])
        let listener = try TCPListener(distributingTo: [group.loops[0], stopped.loops[0]],
                                       address: SocketAddress(host: "127.0.0.1", port: 0)) { connection in
            kept.mutate { $0.append(connection) }
        }
        let first = try XCTUnwrap(RawTCPSocket.connected(port: listener.localAddress.port))
        let second = try XCTUnwrap(RawTCPSocket.connected(port: listener.localAddress.port))
        // The stopped loop drops the hand-off task, and with it the socket: its client sees the close.
        XCTAssertEqual(second.receive(), [], "the socket handed to a stopped loop was not closed")
        XCTAssertEqual(first.receive(timeoutSeconds: 1), nil, "the connection kept on a running loop was closed")
        XCTAssertEqual(kept.value.count, 1)
        let bound = LoopBound(listener, loop: group.loops[0])
        try LoopRunner.run(group.loops[0]) { bound.value.close() }
    }

    /// The spare descriptor cannot be reopened (another thread took the one it freed):
    /// the listener says so once, tries again after each accept, and holds it again as
    /// soon as a descriptor is free.
    func testALostSpareIsReportedOnceAndReopenedWhenADescriptorIsFree() throws {
        let loop = group.loops[0]
        let spareAvailable = SyncBox(false)
        let reports = SyncBox<[AcceptRefusals]>([])
        let accepted = SyncBox<[TCPConnection]>([])
        let firstTwo = expectation(description: "two connections accepted without a spare")
        firstTwo.expectedFulfillmentCount = 2
        let third = expectation(description: "a third connection accepted")
        let listener = try LoopRunner.run(loop) {
            LoopBound(try TCPListener(
                loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0),
                openSpare: { spareAvailable.value ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1 },
                onRefusals: { refusals in reports.mutate { $0.append(refusals) } },
                onAccept: { connection in
                    let count = accepted.mutate { $0.append(connection); return $0.count }
                    (count <= 2 ? firstTwo : third).fulfill()
                }), loop: loop)
        }
        let port = try LoopRunner.run(loop) { listener.value.localAddress.port }
        XCTAssertFalse(try LoopRunner.run(loop) { listener.value.hasSpare })

        // Accepting still works without a spare, and each accept tries to reopen it.
        let first = try XCTUnwrap(RawTCPSocket.connected(port: port))
        let second = try XCTUnwrap(RawTCPSocket.connected(port: port))
        wait(for: [firstTwo], timeout: 10)
        XCTAssertFalse(try LoopRunner.run(loop) { listener.value.hasSpare })
        XCTAssertEqual(reports.value.count, 1, "the lost spare is reported once: \(reports.value)")
        XCTAssertEqual(reports.value.first?.spareLost, true)
        XCTAssertEqual(reports.value.first?.count, 0)
        XCTAssertTrue(reports.value.first?.description.contains("no spare descriptor is left") ?? false,
                      reports.value.first?.description ?? "")

        spareAvailable.value = true
        let last = try XCTUnwrap(RawTCPSocket.connected(port: port))
        wait(for: [third], timeout: 10)
        XCTAssertTrue(try LoopRunner.run(loop) { listener.value.hasSpare }, "the spare was not reopened")
        XCTAssertEqual(reports.value.count, 1)

        _ = (first, second, last)
        try LoopRunner.run(loop) {
            accepted.value.forEach { $0.close() }
            listener.value.close()
        }
    }
}
