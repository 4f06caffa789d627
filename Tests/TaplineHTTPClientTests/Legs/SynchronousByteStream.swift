import TaplineHTTPClient

/// A `ByteStream` without a socket or a loop, for driving a leg in tests: records what
/// is written and whether reading is paused; the test delivers reads, EOF and the
/// close, which reach the delegate at once (synchronously, whether paused or not).
/// For handlers, which need a loop and paused input held back, use
/// `ScriptedByteStream` (TaplineTestSupport).
///
/// `transport` is never read by the code under test (only owners recording
/// `upstreamConnected` do), so this double traps if it is asked for one.
final class SynchronousByteStream: ByteStream {
    weak var delegate: (any ByteStreamDelegate)?
    private(set) var written: [UInt8] = []
    private(set) var readingPaused = false
    private(set) var closed = false
    private(set) var closedAfterFlush = false
    var isWritable = true
    var coalescesSmallWrites: Bool { true }
    var transport: any ByteStreamTransport { fatalError("SynchronousByteStream has no transport") }

    var writtenText: String { String(decoding: written, as: UTF8.self) }

    func takeWritten() -> String {
        defer { written = [] }
        return writtenText
    }

    func write(_ bytes: some Collection<UInt8>) { written.append(contentsOf: bytes) }
    func pauseReading() { readingPaused = true }
    func resumeReading() { readingPaused = false }
    func shutdownWrite() {}
    func closeAfterFlush() { closedAfterFlush = true }
    func close() { closed = true }

    // MARK: Script

    func deliver(_ text: String) {
        deliver(bytes: Array(text.utf8))
    }

    func deliver(bytes: [UInt8]) {
        delegate?.stream(self, didRead: bytes[...])
    }

    /// Everything written so far, removed.
    func takeWrittenBytes() -> [UInt8] {
        defer { written = [] }
        return written
    }

    func deliverEOF() {
        delegate?.streamDidReadEOF(self)
    }

    func deliverClose(error: (any Error)? = nil) {
        delegate?.stream(self, didCloseWith: error)
    }
}
