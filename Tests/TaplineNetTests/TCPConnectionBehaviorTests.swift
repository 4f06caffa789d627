import Dispatch
import TaplineNet
import XCTest

/// Watermarks, half-close, a paused peer's hang-up, connect errors and reentrant closing.
final class TCPConnectionBehaviorTests: XCTestCase {
    private var group: EventLoopGroup!

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 2)
    }

    override func tearDown() {
        group?.shutdown()
        group = nil
    }

    func testWatermarksReportNotWritableThenWritableAgain() throws {
        let serverLoop = group.loops[0]
        let clientLoop = group.loops[1]
        let server = try LoopRunner.run(serverLoop) {
            try ScriptedServer(loop: serverLoop) { _, connection in connection.pauseReading() }
        }
        let address = try LoopRunner.run(serverLoop) { server.address }

        let unwritable = expectation(description: "writabilityChanged(false)")
        let pumped = SyncBox(0)
        let chunk = StreamChecksum.testData(count: 512 * 1024)
        let client = try LoopRunner.run(clientLoop) { () -> ScriptedClient in
            let client = ScriptedClient(loop: clientLoop)
            var stopped = false
            client.handler.onWritability = { connection, isWritable in
                XCTAssertEqual(connection.isWritable, isWritable)
                if isWritable {
                    XCTAssertLessThanOrEqual(connection.bufferedWriteBytes, connection.lowWatermark)
                } else {
                    XCTAssertGreaterThanOrEqual(connection.bufferedWriteBytes, connection.highWatermark)
                    if !stopped {
                        stopped = true
                        unwritable.fulfill()
                    }
                }
            }
            client.connect(to: address) { client in
                guard let connection = client.connection else { return XCTFail("connect failed") }
                connection.highWatermark = 256 * 1024
                connection.lowWatermark = 64 * 1024
                // Write 512 KiB per loop iteration until the first writabilityChanged(false).
                func pump() {
                    guard !stopped, !connection.isClosed else { return }
                    connection.write(chunk)
                    pumped.mutate { $0 += chunk.count }
                    clientLoop.scheduleTimer(milliseconds: 0, pump)
                }
                pump()
            }
            return client
        }
        wait(for: [unwritable], timeout: 30)

        // The peer starts reading: everything arrives and the writer drains.
        let received = expectation(description: "server read everything")
        let total = try LoopRunner.run(clientLoop) { pumped.value }
        try LoopRunner.run(serverLoop) {
            var count = 0
            server.handlers.first?.onRead = { _, bytes in
                count += bytes.count
                if count == total { received.fulfill() }
            }
            server.connections.first?.resumeReading()
        }
        wait(for: [received], timeout: 30)
        let (events, isWritable, buffered) = try LoopRunner.run(clientLoop) {
            (client.handler.writabilityEvents, client.connection?.isWritable, client.connection?.bufferedWriteBytes)
        }
        XCTAssertEqual(events.first, false)
        XCTAssertEqual(events.last, true)
        XCTAssertTrue(zip(events, events.dropFirst()).allSatisfy { $0 != $1 }, "events must alternate: \(events)")
        XCTAssertEqual(isWritable, true)
        XCTAssertEqual(buffered, 0)
    }

    /// The proxy's relay pattern: `write(x); if !isWritable { other.pauseReading() }`.
    func testIsWritableTurnsFalseInsideTheWriteThatCrossesTheHighWatermark() throws {
        let serverLoop = group.loops[0]
        let clientLoop = group.loops[1]
        let server = try LoopRunner.run(serverLoop) {
            try ScriptedServer(loop: serverLoop) { _, connection in connection.pauseReading() }
        }
        let address = try LoopRunner.run(serverLoop) { server.address }
        let checked = expectation(description: "checked")
        let big = [UInt8](repeating: 7, count: 32 * 1024 * 1024)
        let client = try LoopRunner.run(clientLoop) { () -> ScriptedClient in
            let client = ScriptedClient(loop: clientLoop)
            client.connect(to: address) { client in
                guard let connection = client.connection else { return XCTFail("connect failed") }
                connection.write([1, 2, 3])
                XCTAssertTrue(connection.isWritable)
                connection.write(big)
                XCTAssertFalse(connection.isWritable)
                XCTAssertEqual(client.handler.writabilityEvents, [false])
                XCTAssertGreaterThan(connection.bytesWritten, 0, "tried to send before giving up")
                checked.fulfill()
            }
            return client
        }
        wait(for: [checked], timeout: 10)
        try LoopRunner.run(clientLoop) { client.connection?.close() }
    }

    func testHalfCloseStillDeliversTheReply() throws {
        let serverLoop = group.loops[0]
        let clientLoop = group.loops[1]
        let serverClosed = expectation(description: "server closed")
        let clientClosed = expectation(description: "client closed")
        let server = try LoopRunner.run(serverLoop) {
            try ScriptedServer(loop: serverLoop) { handler, _ in
                handler.onEOF = { connection in
                    connection.write(Array("reply:".utf8) + handler.bytes)
                    connection.shutdownWrite()
                }
                handler.onClose = { _, _ in serverClosed.fulfill() }
            }
        }
        let address = try LoopRunner.run(serverLoop) { server.address }
        let client = try LoopRunner.run(clientLoop) { () -> ScriptedClient in
            let client = ScriptedClient(loop: clientLoop)
            client.handler.onClose = { _, _ in clientClosed.fulfill() }
            client.connect(to: address) { client in
                client.connection?.write(Array("hello".utf8))
                client.connection?.shutdownWrite()
                client.connection?.write(Array("ignored".utf8))  // after shutdownWrite: dropped
            }
            return client
        }
        wait(for: [serverClosed, clientClosed], timeout: 10)

        let (reply, clientEOF, clientErrors) = try LoopRunner.run(clientLoop) {
            (String(decoding: client.handler.bytes, as: UTF8.self), client.handler.sawEOF, client.handler.closeErrors)
        }
        let (serverEOF, serverErrors, serverBytes) = try LoopRunner.run(serverLoop) {
            (server.handlers[0].sawEOF, server.handlers[0].closeErrors, server.handlers[0].bytes)
        }
        XCTAssertEqual(reply, "reply:hello")
        XCTAssertEqual(String(decoding: serverBytes, as: UTF8.self), "hello")
        XCTAssertTrue(clientEOF)
        XCTAssertTrue(serverEOF)
        XCTAssertEqual(clientErrors, [nil])
        XCTAssertEqual(serverErrors, [nil])
    }

    /// A paused connection still hears its peer's FIN, once, without reading the bytes
    /// before it (a proxy that stops reading a client mid-exchange learns the client
    /// left); it can still write to a peer that only half-closed, and resuming delivers
    /// the bytes, then the EOF.
    func testPausedConnectionReportsThePeersHangUpOnce() throws {
        let loop = group.loops[0]
        let hungUp = expectation(description: "hang-up reported while paused")
        let readToEnd = expectation(description: "bytes, then EOF, after resuming")
        let server = try LoopRunner.run(loop) {
            try ScriptedServer(loop: loop) { handler, connection in
                connection.pauseReading()
                handler.onHangUpWhilePaused = { connection in
                    XCTAssertTrue(connection.isReadingPaused)
                    connection.write(Array("still here".utf8))
                    hungUp.fulfill()
                }
                handler.onEOF = { _ in readToEnd.fulfill() }
            }
        }
        let port = try LoopRunner.run(loop) { server.address.port }
        guard let peer = RawTCPSocket.connected(port: port) else { return XCTFail("connect failed") }
        XCTAssertTrue(peer.send(Array("request".utf8)))
        XCTAssertTrue(peer.shutdownWrite())
        wait(for: [hungUp], timeout: 10)
        XCTAssertEqual(peer.receive().map { String(decoding: $0, as: UTF8.self) }, "still here")
        let (readsWhilePaused, eofWhilePaused) = try LoopRunner.run(loop) {
            (server.handlers[0].readCount, server.handlers[0].sawEOF)
        }
        XCTAssertEqual(readsWhilePaused, 0)
        XCTAssertFalse(eofWhilePaused)

        try LoopRunner.run(loop) { server.connections[0].resumeReading() }
        wait(for: [readToEnd], timeout: 10)
        let (bytes, hangUps, closeErrors) = try LoopRunner.run(loop) {
            (server.handlers[0].bytes, server.handlers[0].hangUpsWhilePaused, server.handlers[0].closeErrors)
        }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "request")
        XCTAssertEqual(hangUps, 1, "level-triggered EPOLLRDHUP must be reported once, then no longer watched")
        XCTAssertEqual(closeErrors, [], "a half-close alone does not close the connection")
    }

    /// A reset while paused is reported as a hang-up too, without losing what arrived
    /// before it: resuming reads those bytes, then reports the reset.
    func testPausedConnectionReportsAResetAndKeepsTheBytesBeforeIt() throws {
        let loop = group.loops[0]
        let hungUp = expectation(description: "hang-up reported while paused")
        let closed = expectation(description: "closed after resuming")
        let server = try LoopRunner.run(loop) {
            try ScriptedServer(loop: loop) { handler, connection in
                connection.pauseReading()
                handler.onHangUpWhilePaused = { _ in hungUp.fulfill() }
                handler.onClose = { _, _ in closed.fulfill() }
            }
        }
        let port = try LoopRunner.run(loop) { server.address.port }
        var peer = RawTCPSocket.connected(port: port)
        XCTAssertEqual(peer?.send(Array("request".utf8)), true)
        XCTAssertEqual(peer?.resetOnClose(), true)
        peer = nil
        wait(for: [hungUp], timeout: 10)
        let closedWhilePaused = try LoopRunner.run(loop) { server.connections[0].isClosed }
        XCTAssertFalse(closedWhilePaused)

        try LoopRunner.run(loop) { server.connections[0].resumeReading() }
        wait(for: [closed], timeout: 10)
        let (bytes, closeErrors) = try LoopRunner.run(loop) { (server.handlers[0].bytes, server.handlers[0].closeErrors) }
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "request")
        XCTAssertEqual(closeErrors, [.connectionReset])
    }

    func testConnectToClosedPortIsRefused() throws {
        let loop = group.loops[0]
        let refused = expectation(description: "connect failed")
        let outcome = SyncBox<(NetError?, String)>((nil, ""))
        try LoopRunner.run(loop) {
            let listener = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0)) { _ in }
            let address = listener.localAddress
            listener.close()
            var returned = false
            TCPConnection.connect(loop: loop, to: address, timeoutMilliseconds: 5000) { result in
                XCTAssertTrue(returned, "completion must not run inside connect()")
                if case .failure(let error) = result { outcome.value = (error, address.description) }
                refused.fulfill()
            }
            returned = true
        }
        wait(for: [refused], timeout: 10)
        let (error, address) = outcome.value
        XCTAssertEqual(error, .connectionRefused(address))
    }

    func testCloseFromInsideDidReadIsSafe() throws {
        let serverLoop = group.loops[0]
        let clientLoop = group.loops[1]
        let serverClosed = expectation(description: "server closed")
        let clientClosed = expectation(description: "client closed")
        let server = try LoopRunner.run(serverLoop) {
            try ScriptedServer(loop: serverLoop) { handler, _ in
                handler.onRead = { connection, bytes in
                    connection.write(bytes)
                    connection.close()
                    XCTAssertTrue(connection.isClosed)
                    // Everything after close is a harmless no-op.
                    connection.write(bytes)
                    connection.pauseReading()
                    connection.resumeReading()
                    connection.shutdownWrite()
                    connection.closeAfterFlush()
                    connection.close()
                    XCTAssertEqual(connection.bufferedWriteBytes, 0)
                }
                handler.onClose = { _, _ in serverClosed.fulfill() }
            }
        }
        let address = try LoopRunner.run(serverLoop) { server.address }
        let client = try LoopRunner.run(clientLoop) { () -> ScriptedClient in
            let client = ScriptedClient(loop: clientLoop)
            client.handler.onEOF = { $0.close() }
            client.handler.onClose = { _, _ in clientClosed.fulfill() }
            client.connect(to: address) { $0.connection?.write(Array("ping".utf8)) }
            return client
        }
        wait(for: [serverClosed, clientClosed], timeout: 10)
        let (reads, errors, late) = try LoopRunner.run(serverLoop) {
            (server.handlers[0].readCount, server.handlers[0].closeErrors, server.handlers[0].callbacksAfterClose)
        }
        XCTAssertEqual(reads, 1)
        XCTAssertEqual(errors, [nil])
        XCTAssertEqual(late, 0)
        let clientErrors = try LoopRunner.run(clientLoop) { client.handler.closeErrors }
        XCTAssertEqual(clientErrors.count, 1)
    }

    func testWriteThenCloseAfterFlushDeliversEverything() throws {
        let serverLoop = group.loops[0]
        let clientLoop = group.loops[1]
        let payload = StreamChecksum.testData(count: 3 * 1024 * 1024 + 17)
        var expected = StreamChecksum()
        expected.update(payload)
        let serverClosed = expectation(description: "server closed")
        let clientClosed = expectation(description: "client closed")
        let server = try LoopRunner.run(serverLoop) {
            try ScriptedServer(loop: serverLoop) { handler, connection in
                connection.write(payload)
                connection.closeAfterFlush()
                connection.write(Array("dropped".utf8))
                handler.onClose = { _, _ in serverClosed.fulfill() }
            }
        }
        let address = try LoopRunner.run(serverLoop) { server.address }
        let client = try LoopRunner.run(clientLoop) { () -> ScriptedClient in
            let client = ScriptedClient(loop: clientLoop)
            client.handler.onEOF = { $0.close() }
            client.handler.onClose = { _, _ in clientClosed.fulfill() }
            client.connect(to: address) { _ in }
            return client
        }
        wait(for: [serverClosed, clientClosed], timeout: 30)
        let (received, errors) = try LoopRunner.run(clientLoop) { () -> (StreamChecksum, [NetError?]) in
            var sum = StreamChecksum()
            sum.update(client.handler.bytes)
            return (sum, client.handler.closeErrors)
        }
        XCTAssertEqual(received, expected)
        XCTAssertEqual(errors, [nil])
        let serverErrors = try LoopRunner.run(serverLoop) { server.handlers[0].closeErrors }
        XCTAssertEqual(serverErrors, [nil])
    }

    func testPeerResetIsReportedAsConnectionReset() throws {
        let serverLoop = group.loops[0]
        let clientLoop = group.loops[1]
        let clientClosed = expectation(description: "client closed")
        let server = try LoopRunner.run(serverLoop) {
            // Closing with unread bytes in the receive buffer makes the kernel send RST.
            try ScriptedServer(loop: serverLoop) { handler, _ in
                handler.onRead = { connection, _ in connection.close() }
            }
        }
        let address = try LoopRunner.run(serverLoop) { server.address }
        let payload = StreamChecksum.testData(count: 1024 * 1024)
        let client = try LoopRunner.run(clientLoop) { () -> ScriptedClient in
            let client = ScriptedClient(loop: clientLoop)
            client.handler.onClose = { _, _ in clientClosed.fulfill() }
            client.connect(to: address) { $0.connection?.write(payload) }
            return client
        }
        wait(for: [clientClosed], timeout: 10)
        let errors = try LoopRunner.run(clientLoop) { client.handler.closeErrors }
        XCTAssertEqual(errors, [.connectionReset])
    }

    /// What one socket's event wrote leaves before the next socket of the same
    /// `epoll_wait` batch is handled (a relay's next hop starts at once).
    func testWritesFromOneEventAreSentBeforeTheNextEventOfTheBatch() throws {
        let loop = group.loops[0]
        guard let (sinkListener, sinkAddress) = RawTCPSocket.listening() else { return XCTFail("no listening socket") }
        let sink = try LoopRunner.run(loop) { () -> ScriptedClient in
            let client = ScriptedClient(loop: loop)
            client.connect(to: sinkAddress) { _ in }
            return client
        }
        guard let sinkPeer = sinkListener.accept() else { return XCTFail("accept failed") }

        // Each relayed read notes how many bytes of earlier reads were still queued.
        let relayed = expectation(description: "both reads relayed")
        relayed.expectedFulfillmentCount = 2
        let stillQueued = SyncBox<[Int]>([])
        let server = try LoopRunner.run(loop) {
            try ScriptedServer(loop: loop) { handler, _ in
                handler.onRead = { _, bytes in
                    guard let out = sink.connection else { return XCTFail("sink not connected") }
                    stillQueued.mutate { $0.append(out.bufferedWriteBytes) }
                    out.write(Array(bytes))
                    relayed.fulfill()
                }
            }
        }
        let port = try LoopRunner.run(loop) { server.address.port }
        guard let first = RawTCPSocket.connected(port: port), let second = RawTCPSocket.connected(port: port) else {
            return XCTFail("connect failed")
        }
        let accepted = DispatchTime.now() + 10
        while try LoopRunner.run(loop, { server.connections.count }) < 2 {
            guard DispatchTime.now() < accepted else { return XCTFail("the server did not accept both connections") }
        }

        // Hold the loop while both sockets become readable, so one epoll_wait reports both.
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        loop.execute {
            holding.signal()
            release.wait()
        }
        holding.wait()
        XCTAssertTrue(first.send([1]))
        XCTAssertTrue(second.send([2, 2]))
        release.signal()
        wait(for: [relayed], timeout: 10)

        XCTAssertEqual(stillQueued.value, [0, 0], "the first read's relayed bytes must be sent before the second read")
        var arrived = 0
        let deadline = DispatchTime.now() + 10
        while arrived < 3 && DispatchTime.now() < deadline { arrived = sinkPeer.pendingByteCount() }
        XCTAssertEqual(arrived, 3)
    }
}
