import TaplineWire

/// What is still to be sent on one stream: body bytes queued by the owner,
/// whether the body is complete, and the trailers to end with.
///
/// Invariants: `bufferedBytes` is the sum of the chunks' counts; once `ended`,
/// no bytes are appended. `deferred` is true while nghttp2 was told
/// NGHTTP2_ERR_DEFERRED and must be resumed when bytes or the end arrive.
/// `resetCode` set means the stream ends with RST_STREAM instead of END_STREAM once
/// the queued bytes are framed (`ended` is then true too); `resetScheduled` once the
/// session has queued that reset.
/// Thread ownership: belongs to its `HTTP2Session`, same thread. The session reuses
/// the object for a later stream after `reset()`.
final class HTTP2OutboundStream {
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var headOffset = 0
    private(set) var bufferedBytes = 0
    var ended = false
    var trailers: HTTPHeaders?
    var deferred = false
    var resetCode: HTTP2ErrorCode?
    var resetScheduled = false

    /// Back to a new stream's state: nothing queued, not ended, no trailers (the chunk
    /// list keeps its capacity).
    func reset() {
        if !chunks.isEmpty { chunks.removeAll(keepingCapacity: true) }  // usually all taken already
        head = 0
        headOffset = 0
        bufferedBytes = 0
        ended = false
        trailers = nil
        deferred = false
        resetCode = nil
        resetScheduled = false
    }

    func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        bufferedBytes += bytes.count
    }

    /// Copies up to `count` bytes into `destination` and drops them; returns how many.
    func take(into destination: UnsafeMutablePointer<UInt8>, count: Int) -> Int {
        var copied = 0
        while copied < count, head < chunks.count {
            let chunk = chunks[head]
            let n = min(count - copied, chunk.count - headOffset)
            chunk.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { (destination + copied).update(from: base + headOffset, count: n) }
            }
            copied += n
            headOffset += n
            if headOffset == chunk.count {
                head += 1
                headOffset = 0
            }
        }
        if head == chunks.count {
            // Most bodies are one chunk: dropping the last one costs less than
            // `removeAll`'s range replacement (both keep the capacity).
            if chunks.count == 1 { chunks.removeLast() } else { chunks.removeAll(keepingCapacity: true) }
            head = 0
        } else if head > 32 {
            chunks.removeFirst(head)
            head = 0
        }
        bufferedBytes -= copied
        return copied
    }
}
