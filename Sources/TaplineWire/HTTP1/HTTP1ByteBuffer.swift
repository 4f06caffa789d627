/// The bytes a parser has received and not yet consumed: a growable array plus a
/// read index, compacted now and then instead of on every read.
///
/// Invariants: `0 <= readIndex <= storage.count`; offsets taken by the methods
/// are relative to `readIndex`. Body slices handed out (`readSlice`) share
/// `storage`; to keep a caller that holds on to them from forcing a copy of
/// everything on the next `append`, the next append then starts a fresh array
/// holding only the unread bytes (those are the only bytes ever copied twice).
///
/// A value type owned by one parser (and so by one connection's thread).
struct HTTP1ByteBuffer: Sendable {
    private var storage: [UInt8] = []
    private var readIndex = 0
    /// True when a slice of `storage` may still be alive outside this buffer.
    private var sliceHandedOut = false

    /// Below this many consumed bytes, partial compaction is not worth a move.
    private static let compactionThreshold = 4096

    /// Bytes received but not consumed.
    var readableCount: Int { storage.count - readIndex }

    /// Adds `bytes` after the unread ones. Concrete (not generic over `Collection`): the
    /// parsers' public `append`s are called from other modules, where a generic one runs
    /// unspecialized, through witness tables, on every read.
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.isEmpty { return }
        if readIndex == storage.count {
            // Everything was consumed: reuse the capacity when nobody shares it;
            // when a body slice is still held, this allocates without copying.
            storage.removeAll(keepingCapacity: true)
            readIndex = 0
            sliceHandedOut = false
        } else if sliceHandedOut {
            var fresh: [UInt8] = []
            fresh.reserveCapacity(readableCount + bytes.count)
            fresh.append(contentsOf: storage[readIndex...])
            storage = fresh
            readIndex = 0
            sliceHandedOut = false
        } else if readIndex >= Self.compactionThreshold && readIndex * 2 >= storage.count {
            storage.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        storage.append(contentsOf: bytes)
    }

    /// The byte at `offset` past the read index; `offset < readableCount`.
    @inline(__always)
    func byte(at offset: Int) -> UInt8 { storage[readIndex + offset] }

    /// Marks `count` bytes (`<= readableCount`) as consumed.
    @inline(__always)
    mutating func consume(_ count: Int) { readIndex += count }

    /// Consumes `count` bytes (`<= readableCount`) and returns them without copying.
    mutating func readSlice(_ count: Int) -> ArraySlice<UInt8> {
        let slice = storage[readIndex..<(readIndex + count)]
        readIndex += count
        sliceHandedOut = true
        return slice
    }

    /// Lets `body` rewrite the next `count` (`<= readableCount`) unread bytes in place
    /// (WebSocket unmasking). Copies the storage first only if a slice still shares it.
    mutating func withMutableReadableBytes(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
        let start = readIndex
        storage.withUnsafeMutableBytes { raw in
            body(UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + count)]))
        }
    }

    /// Removes and returns every unread byte.
    mutating func takeAll() -> [UInt8] {
        let rest = Array(storage[readIndex...])
        storage.removeAll(keepingCapacity: !sliceHandedOut)
        readIndex = 0
        sliceHandedOut = false
        return rest
    }

    /// Calls `body` with the unread bytes (index 0 is the read index).
    func withReadableBytes<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let start = readIndex
        return try storage.withUnsafeBufferPointer { (all: UnsafeBufferPointer<UInt8>) throws(E) -> R in
            try body(UnsafeBufferPointer(rebasing: all[start...]))
        }
    }
}
