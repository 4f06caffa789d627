import Foundation
import TaplineNet
import TaplineTLS
@testable import TaplineHTTPClient

/// Both ends of one TLS connection over loopback, on one loop: a server `TLSStream`
/// that speaks first (once its handshake is done it writes `greeting` and closes, as
/// an h2 server sends SETTINGS at once) and a client `TLSStream` nobody owns at first,
/// as an intercepted upstream waits for the client's handshake. Once the server has
/// closed and the client has read all it sent (or paused itself, holding input), the
/// probe takes the client over as its delegate and resumes reading; it records what
/// it is told from then on, closes the client at EOF and reports the outcome.
/// With `closesOnTakeover`, it closes the client on a timer set just before it
/// resumes reading: that timer fires in the same loop phase as the held input's
/// delivery, just before it, and the connection reports the close only after that
/// phase (as an owner's timeout closing the stream would).
///
/// Thread ownership: everything but the outcome is confined to `loop`; the outcome
/// is guarded by `lock` and read by the test thread through `waitForOutcome`.
final class TLSStreamTakeoverProbe: ByteStreamDelegate, @unchecked Sendable {
    struct Outcome {
        var received: [UInt8] = []
        /// How many bytes had been received when EOF was reported (nil: no EOF).
        var receivedBeforeEOF: Int?
        var failure: String?
    }

    private let loop: EventLoop
    private let greeting: [[UInt8]]
    private let closesOnTakeover: ((TLSStream) -> Void)?
    private var listener: TCPListener?
    private var serverConnection: TCPConnection?
    private var client: TLSStream?
    private let lock = NSLock()
    private var outcome = Outcome()
    private let finished = DispatchSemaphore(value: 0)

    init(loop: EventLoop, greeting: [String], closesOnTakeover: ((TLSStream) -> Void)? = nil) {
        self.loop = loop
        self.greeting = greeting.map { Array($0.utf8) }
        self.closesOnTakeover = closesOnTakeover
    }

    /// Loop thread: listens, connects, and lets both handshakes run.
    func start(presenting certificate: LeafCertificate) {
        do {
            let listener = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0)) { [self] in
                serve($0, presenting: certificate)
            }
            self.listener = listener
            TCPConnection.connect(loop: loop, to: listener.localAddress, timeoutMilliseconds: 5_000) { [self] result in
                switch result {
                case .success(let connection): connectClient(over: connection)
                case .failure(let error): finish(failure: "connect: \(error)")
                }
            }
        } catch {
            finish(failure: "listen: \(error)")
        }
    }

    /// Test thread: the outcome once the client closed, or what there was after `timeout` seconds.
    func waitForOutcome(timeout: TimeInterval) -> Outcome {
        let closed = finished.wait(timeout: .now() + timeout) == .success
        lock.lock()
        defer { lock.unlock() }
        var result = outcome
        if !closed, result.failure == nil { result.failure = "the client was not closed within \(timeout) s" }
        return result
    }

    private func serve(_ connection: TCPConnection, presenting certificate: LeafCertificate) {
        serverConnection = connection
        do {
            let engine = try TLSEngine(server: TLSServerConfiguration(certificate: certificate, alpn: nil))
            TLSStream(connection: connection, engine: engine) { [self] result in
                guard case .success(let server) = result else { return finish(failure: "server handshake: \(result)") }
                for piece in greeting { server.write(piece) }
                server.closeAfterFlush()
            }.start()
        } catch {
            finish(failure: "server engine: \(error)")
        }
    }

    private func connectClient(over connection: TCPConnection) {
        do {
            let engine = try TLSEngine(client: TLSClientConfiguration(serverName: "localhost", verifyPeer: false))
            let client = TLSStream(connection: connection, engine: engine) { [self] result in
                if case .failure(let error) = result { finish(failure: "client handshake: \(error)") }
            }
            self.client = client
            client.start()
            takeOverOnceTheServerIsDone()
        } catch {
            finish(failure: "client engine: \(error)")
        }
    }

    private func takeOverOnceTheServerIsDone() {
        guard let client, let server = serverConnection, server.isClosed,
              client.connection.bytesRead == server.bytesWritten || client.connection.isReadingPaused else {
            loop.scheduleTimer(milliseconds: 1) { [self] in takeOverOnceTheServerIsDone() }
            return
        }
        client.delegate = self
        if let closesOnTakeover {
            // Due in the same timer phase as the delivery `resumeReading()` schedules, and first.
            loop.scheduleTimer(milliseconds: 0) { closesOnTakeover(client) }
        }
        client.resumeReading()
    }

    private func finish(failure: String?) {
        lock.lock()
        if outcome.failure == nil { outcome.failure = failure }
        lock.unlock()
        listener?.close()
        listener = nil
        finished.signal()
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        lock.lock()
        outcome.received += bytes
        lock.unlock()
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        lock.lock()
        outcome.receivedBeforeEOF = outcome.received.count
        lock.unlock()
        stream.close()
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {}

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        finish(failure: nil)
    }
}
