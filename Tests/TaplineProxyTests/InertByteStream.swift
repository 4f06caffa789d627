import TaplineHTTPClient

/// A `ByteStream` that is never read or written: the transport of an object under test
/// that only needs one to exist (an `HTTP2TunnelStream` before any I/O). Every write is
/// counted, so a test can check that none happened.
final class InertByteStream: ByteStream {
    weak var delegate: (any ByteStreamDelegate)?
    private(set) var bytesWritten = 0
    var transport: any ByteStreamTransport { fatalError("InertByteStream has no transport") }
    var isWritable: Bool { true }
    var coalescesSmallWrites: Bool { false }
    func write(_ bytes: some Collection<UInt8>) { bytesWritten += bytes.count }
    func pauseReading() {}
    func resumeReading() {}
    func shutdownWrite() {}
    func closeAfterFlush() {}
    func close() {}
}
