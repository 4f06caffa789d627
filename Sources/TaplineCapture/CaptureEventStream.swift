import TaplineFlow

/// One event loop's way into a `CaptureWriter`: encodes the loop's events into
/// lines and body bytes on the loop thread itself, and hands the writer one
/// `CaptureBatch` per `flush` (once per loop iteration). The writer thread then
/// only writes bytes; no `FlowEvent` crosses threads.
///
/// Thread ownership: confined to the event loop that called
/// `CaptureWriter.makeSink()`. Flushes what is left when it is released.
final class CaptureEventStream: FlowEventSink {
    private let writer: CaptureWriter
    private var encoder: CaptureEventEncoder
    private var spare = CaptureWriter.SpareBuffers()

    init(writer: CaptureWriter, encoder: CaptureEventEncoder) {
        self.writer = writer
        self.encoder = encoder
    }

    deinit { flush() }

    func record(_ event: FlowEvent) {
        encoder.encode(event)
    }

    func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: Timestamp) {
        encoder.encodeBody(flow: flow, isRequest: isRequest, bytes: bytes, now: time)
    }

    var bufferedBytes: Int { encoder.bufferedBytes }

    func flush() {
        guard let batch = encoder.takeBatch(spare: &spare) else { return }
        spare = writer.submit(batch)
    }
}
