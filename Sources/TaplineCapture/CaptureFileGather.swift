import Glibc

extension CaptureFile {
    /// Byte ranges to be written with one `writev`, in order.
    ///
    /// The pointers are borrowed: a gather is filled and written while the
    /// buffers it points into are alive and unchanged (inside their
    /// `withUnsafeBytes`), then emptied. Holds at most `IOV_MAX` (1024) ranges.
    struct Gather {
        private(set) var vectors: [iovec] = []
        private(set) var byteCount = 0

        static let limit = 1024

        var isEmpty: Bool { vectors.isEmpty }
        var isFull: Bool { vectors.count >= Self.limit }

        mutating func append(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            precondition(!isFull, "a gather holds at most \(Self.limit) ranges")
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: base), iov_len: bytes.count))
            byteCount += bytes.count
        }

        mutating func removeAll() {
            vectors.removeAll(keepingCapacity: true)
            byteCount = 0
        }
    }

    /// Appends every range of `gather`: one `writev` (retried after partial writes
    /// and EINTR), or with direct I/O, copied into the staging buffers.
    func writeAll(_ gather: Gather) throws(CaptureError) {
        if let directIO {
            for vector in gather.vectors { try directIO.append(UnsafeRawBufferPointer(start: vector.iov_base, count: vector.iov_len)) }
            appended(gather.byteCount)
            return
        }
        try Self.writeAll(gather, to: descriptor, at: nil, path: path) { appended($0) }
    }

    /// Writes every range of `gather` to `descriptor` (`writev` at the file
    /// position, or `pwritev` at `offset`), retried after partial writes and EINTR;
    /// `written` is told each system call's count.
    static func writeAll(_ gather: Gather, to descriptor: Int32, at offset: UInt64?, path: String,
                         written: (Int) -> Void = { _ in }) throws(CaptureError) {
        var vectors = gather.vectors
        var first = 0
        var done: UInt64 = 0
        var left = gather.byteCount
        while left > 0 {
            let count = vectors.withUnsafeMutableBufferPointer { buffer in
                let start = buffer.baseAddress! + first, ranges = Int32(buffer.count - first)
                return offset.map { pwritev(descriptor, start, ranges, off_t($0 + done)) } ?? writev(descriptor, start, ranges)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: lastErrorText())
            }
            if count == 0 { throw .cannotWrite(path: path, reason: "the disk accepted no bytes") }
            left -= count
            done += UInt64(count)
            written(count)
            // Skip the ranges written in full; shorten the one written in part.
            var rest = count
            while first < vectors.count && rest >= vectors[first].iov_len {
                rest -= vectors[first].iov_len
                first += 1
            }
            if rest > 0 {
                vectors[first].iov_base += rest
                vectors[first].iov_len -= rest
            }
        }
    }
}
