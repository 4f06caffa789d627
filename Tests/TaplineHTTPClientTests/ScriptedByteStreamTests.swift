import Dispatch
import TaplineHTTPClient
import TaplineNet
import TaplineTestSupport
import XCTest

/// The test double handlers are driven with keeps a socket stream's promises:
/// nothing is delivered while paused or from inside `resumeReading()`, held input
/// comes in order, and after the owner's close only `didCloseWith` comes, once.
final class ScriptedByteStreamTests: XCTestCase {
    /// What a delegate was told, in order.
    private final class Listener: ByteStreamDelegate, @unchecked Sendable {
        var heard: [String] = []
        func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
            heard.append("read \(String(decoding: bytes, as: UTF8.self))")
        }
        func streamDidReadEOF(_ stream: any ByteStream) { heard.append("eof") }
        func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) { heard.append("writable \(isWritable)") }
        func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) { heard.append("closed") }
    }

    /// Runs `script` on a fresh loop, then `check` on it once every task `script`
    /// caused has run (tasks run in order), and waits for both.
    private func onLoop(_ script: @escaping @Sendable (ScriptedByteStream, Listener) -> Void,
                        then check: @escaping @Sendable (ScriptedByteStream, Listener) -> Void) throws {
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let address = try SocketAddress(host: "127.0.0.1", port: 1)
        let stream = ScriptedByteStream(loop: loop, localAddress: address, remoteAddress: address)
        let listener = Listener()
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            stream.delegate = listener
            script(stream, listener)
            loop.execute {
                check(stream, listener)
                done.signal()
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
    }

    func testInputWhilePausedIsHeldAndDeliveredInOrderOnTheTurnAfterResume() throws {
        try onLoop({ stream, listener in
            stream.pauseReading()
            stream.receive("GET / HTTP/1.1\r\n")
            stream.receiveEOF()
            XCTAssertEqual(listener.heard, [])
            stream.resumeReading()
            XCTAssertEqual(listener.heard, [], "never from inside resumeReading()")
        }, then: { stream, listener in
            XCTAssertEqual(listener.heard, ["read GET / HTTP/1.1\r\n", "eof"])
            XCTAssertEqual(stream.bytesRead, 16)
            XCTAssertEqual(stream.actions, [.pauseReading, .resumeReading])
        })
    }

    func testAfterTheOwnersCloseOnlyTheCloseIsReportedOnceOnTheNextTurn() throws {
        try onLoop({ stream, listener in
            stream.setWritable(false)
            stream.write(Array("bye".utf8))
            stream.closeAfterFlush()
            stream.receive("late")
            stream.closeByPeer()
            XCTAssertEqual(listener.heard, ["writable false"])
        }, then: { stream, listener in
            XCTAssertEqual(listener.heard, ["writable false", "closed"])
            XCTAssertNil(stream.delegate, "the delegate is let go once told")
            XCTAssertEqual(stream.actions, [.write(Array("bye".utf8)), .closeAfterFlush])
            XCTAssertEqual(stream.bytesWritten, 3)
            XCTAssertEqual(stream.bytesRead, 0)
        })
    }
}
