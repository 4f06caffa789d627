import TaplineCapture

/// The request body a `ReplayExchange` sends, chunk by chunk: the stored body streamed
/// from the capture (`CapturedBodyReader`), or the request's `replacementBody`
/// (`tapline replay --edit`) from memory. Owned by one exchange, on its loop thread.
final class ReplayRequestBody {
    private let stored: CapturedBodyReader?
    private let replacement: [UInt8]
    private var offset = 0

    init(_ request: ReplayRequest, stored body: CapturedBody) {
        if let replacement = request.replacementBody {
            self.replacement = replacement
            stored = nil
        } else {
            replacement = []
            stored = CapturedBodyReader(body)
        }
    }

    /// The next bytes, at most `maxBytes`; empty at the end.
    /// - Throws: `CaptureError` when the stored body's segment cannot be read.
    func next(maxBytes: Int) throws(CaptureError) -> [UInt8] {
        if let stored { return try stored.next(maxBytes: maxBytes) }
        let end = min(replacement.count, offset + maxBytes)
        defer { offset = end }
        return Array(replacement[offset..<end])
    }

    func close() {
        stored?.close()
    }
}
