/// The write queue of a `TCPConnection`: byte chunks plus the offset already
/// written from the first one. Small writes are coalesced into the last chunk
/// (up to `coalesceLimit` bytes) so many tiny writes become one `send`.
/// Loop-confined value type.
///
/// A written-out chunk's storage of at most `spareLimit` bytes is kept (`spare`)
/// and filled again by the next copied write: a connection that writes in bursts
/// (an HTTP/2 session's frames, a dozen small ones per burst) allocates nothing
/// per burst, for at most `spareLimit` bytes held per connection.
struct ByteChunkQueue {
    static let coalesceLimit = 64 * 1024
    static let spareLimit = 32 * 1024
    /// What a chunk started by a small copied write reserves, so the writes coalesced
    /// into it after the first do not regrow it one by one.
    static let firstChunkCapacity = 16 * 1024

    private var chunks: [[UInt8]] = []
    private var headIndex = 0
    private var headOffset = 0
    private var spare: [UInt8] = []

    var isEmpty: Bool { headIndex == chunks.count }

    /// Copies `bytes` into the queue.
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty else { return }
        if headIndex < chunks.count, chunks[chunks.count - 1].count + bytes.count <= Self.coalesceLimit {
            chunks[chunks.count - 1].append(contentsOf: bytes)
            return
        }
        var chunk = spare
        spare = []
        if chunk.capacity < bytes.count {
            chunk.reserveCapacity(max(bytes.count, Self.firstChunkCapacity))
        }
        chunk.append(contentsOf: bytes)
        chunks.append(chunk)
    }

    /// Takes `bytes` without copying when it is large; small arrays are coalesced.
    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if bytes.count < 4096, headIndex < chunks.count,
           chunks[chunks.count - 1].count + bytes.count <= Self.coalesceLimit {
            chunks[chunks.count - 1].append(contentsOf: bytes)
        } else {
            chunks.append(bytes)
        }
    }

    /// Calls `body` with the unwritten bytes of the first chunk (queue must not be empty).
    func withFirstChunk<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        chunks[headIndex].withUnsafeBytes { all in
            body(UnsafeRawBufferPointer(rebasing: all[headOffset...]))
        }
    }

    /// Marks `count` bytes of the first chunk as written (at most what is left of it).
    mutating func consume(_ count: Int) {
        headOffset += count
        guard headOffset >= chunks[headIndex].count else { return }
        if spare.capacity == 0 && chunks[headIndex].capacity <= Self.spareLimit {
            swap(&spare, &chunks[headIndex])
            spare.removeAll(keepingCapacity: true)  // in place unless a caller still shares it
        } else {
            chunks[headIndex] = []
        }
        headIndex += 1
        headOffset = 0
        if headIndex == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            headIndex = 0
        } else if headIndex >= 32 && headIndex * 2 >= chunks.count {
            chunks.removeFirst(headIndex)
            headIndex = 0
        }
    }

    /// Drops everything queued, and the spare storage (the connection is closing).
    mutating func removeAll() {
        chunks = []
        headIndex = 0
        headOffset = 0
        spare = []
    }
}
