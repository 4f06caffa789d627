import TaplineHTTPClient

/// A `ByteStreamDelegate` that writes down what a byte stream delivered, in order: the
/// bytes read (as text), the end of input, and the close (with its error, if any).
final class RecordingByteStreamDelegate: ByteStreamDelegate {
    private(set) var events: [String] = []

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        events.append("read \(String(decoding: bytes, as: UTF8.self))")
    }

    func streamDidReadEOF(_ stream: any ByteStream) { events.append("eof") }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {}

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        events.append("closed \(error.map { "\($0)" } ?? "cleanly")")
    }
}
