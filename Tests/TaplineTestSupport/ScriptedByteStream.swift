import TaplineHTTPClient
import TaplineNet

/// A `ByteStream` with no socket under it, for driving a handler in a unit test.
/// The test plays the peer and the socket: it injects reads, the peer's EOF or
/// hang-up, writability changes and the connection's close. The stream records
/// everything its owner does to it (`actions`: writes, pauses and resumes, shutdown,
/// closes), in order. It is its own transport, with the addresses the test gives it
/// and the counts of the bytes that crossed it.
///
/// It behaves as a `PlainStream` does wherever an owner can tell:
/// - input injected while reading is paused is held, and delivered in order on the
///   loop's next turn after `resumeReading()` (a socket leaves it in the kernel);
/// - once the owner calls `close()` or `closeAfterFlush()`, held and later input is
///   dropped and the owner hears nothing more but `didCloseWith`, which comes on the
///   loop's next turn (a socket's close is reported after the phase it happened in);
/// - `didCloseWith` is delivered exactly once, and the delegate is held until then;
/// - `writabilityChanged` is told only when writability changes.
///
/// Thread ownership: confined to `loop`. `@unchecked Sendable` only so that a test can
/// carry it into `loop.execute` and read `actions` after the loop has signalled it is
/// done with the stream.
public final class ScriptedByteStream: ByteStream, ByteStreamTransport, @unchecked Sendable {
    /// What the owner did to the stream. Described with written bytes as text, so a
    /// failed comparison reads as the exchange on the wire.
    public enum Action: Equatable, Sendable, CustomStringConvertible {
        case write([UInt8])
        case pauseReading
        case resumeReading
        case shutdownWrite
        case closeAfterFlush
        case close

        public var description: String {
            switch self {
            case .write(let bytes): return "write(\(String(decoding: bytes, as: UTF8.self).debugDescription))"
            case .pauseReading: return "pauseReading"
            case .resumeReading: return "resumeReading"
            case .shutdownWrite: return "shutdownWrite"
            case .closeAfterFlush: return "closeAfterFlush"
            case .close: return "close"
            }
        }
    }

    /// Input waiting for the owner to resume reading.
    private enum HeldInput {
        case bytes([UInt8])
        case eof
    }

    public var delegate: (any ByteStreamDelegate)?
    public let loop: EventLoop
    public let localAddress: SocketAddress
    public let remoteAddress: SocketAddress
    public let coalescesSmallWrites: Bool
    /// Everything the owner did, in order.
    public private(set) var actions: [Action] = []
    public private(set) var bytesRead: UInt64 = 0
    public private(set) var bytesWritten: UInt64 = 0
    public private(set) var isWritable = true
    public private(set) var isReadingPaused = false
    private var held: [HeldInput] = []
    private var heldDeliveryScheduled = false
    /// The owner closed the stream, or the test closed the connection: no more input.
    private var closed = false
    private var closeReported = false

    public init(loop: EventLoop, localAddress: SocketAddress, remoteAddress: SocketAddress,
                coalescesSmallWrites: Bool = true) {
        self.loop = loop
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.coalescesSmallWrites = coalescesSmallWrites
    }

    public var transport: any ByteStreamTransport { self }

    /// The bytes of every write, in order, as one array.
    public var written: [UInt8] {
        actions.flatMap { action -> [UInt8] in
            if case .write(let bytes) = action { return bytes }
            return []
        }
    }

    // MARK: ByteStream (the owner's side)

    public func write(_ bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        bytesWritten += UInt64(bytes.count)
        actions.append(.write(bytes))
    }

    public func pauseReading() {
        actions.append(.pauseReading)
        isReadingPaused = true
    }

    public func resumeReading() {
        actions.append(.resumeReading)
        isReadingPaused = false
        if !held.isEmpty { scheduleHeldDelivery() }
    }

    public func shutdownWrite() {
        actions.append(.shutdownWrite)
    }

    public func closeAfterFlush() {
        actions.append(.closeAfterFlush)
        closeConnection(error: nil)
    }

    public func close() {
        actions.append(.close)
        closeConnection(error: nil)
    }

    // MARK: Script (the test's side: the peer and the socket)

    /// The peer sent `bytes`: delivered now, or held while reading is paused.
    public func receive(_ bytes: [UInt8]) {
        guard !closed else { return }
        bytesRead += UInt64(bytes.count)
        if isReadingPaused || !held.isEmpty {
            held.append(.bytes(bytes))
        } else {
            delegate?.stream(self, didRead: bytes[...])
        }
    }

    /// The peer sent `text` (UTF-8).
    public func receive(_ text: String) {
        receive(Array(text.utf8))
    }

    /// The peer ended its side (FIN): reported after what it sent before.
    public func receiveEOF() {
        guard !closed else { return }
        if isReadingPaused || !held.isEmpty {
            held.append(.eof)
        } else {
            delegate?.streamDidReadEOF(self)
        }
    }

    /// The peer's FIN arrived while reading is paused: told now, read as EOF after
    /// `resumeReading()` (as `PlainStream` does).
    public func peerHangsUpWhilePaused() {
        precondition(isReadingPaused, "a hang-up is reported this way only while reading is paused")
        guard !closed else { return }
        delegate?.streamPeerHungUpWhilePaused(self)
        held.append(.eof)
    }

    /// The socket's send queue went above (false) or back under (true) its watermark.
    public func setWritable(_ isWritable: Bool) {
        guard !closed, isWritable != self.isWritable else { return }
        self.isWritable = isWritable
        delegate?.stream(self, writabilityChanged: isWritable)
    }

    /// The connection closed under the owner (a reset, say): `didCloseWith(error)` on
    /// the loop's next turn.
    public func closeByPeer(error: (any Error)? = nil) {
        closeConnection(error: error)
    }

    // MARK: Delivery

    private func closeConnection(error: (any Error)?) {
        guard !closed else { return }
        closed = true
        held = []
        loop.execute { [self] in
            guard !closeReported else { return }
            closeReported = true
            let delegate = self.delegate
            self.delegate = nil
            delegate?.stream(self, didCloseWith: error)
        }
    }

    private func scheduleHeldDelivery() {
        guard !heldDeliveryScheduled else { return }
        heldDeliveryScheduled = true
        loop.execute { [self] in
            heldDeliveryScheduled = false
            deliverHeldInput()
        }
    }

    /// Hands over the held input in order until the owner pauses again or closes.
    private func deliverHeldInput() {
        while !held.isEmpty, !isReadingPaused, !closed {
            switch held.removeFirst() {
            case .bytes(let bytes): delegate?.stream(self, didRead: bytes[...])
            case .eof: delegate?.streamDidReadEOF(self)
            }
        }
    }
}
