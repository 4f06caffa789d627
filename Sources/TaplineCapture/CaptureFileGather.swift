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
        var vectors = gather.vectors
        var first = 0
        var left = gather.byteCount
        while left > 0 {
            let written = vectors.withUnsafeMutableBufferPointer { buffer in
                writev(descriptor, buffer.baseAddress! + first, Int32(buffer.count - first))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: Self.lastErrorText())
            }
            if written == 0 { throw .cannotWrite(path: path, reason: "the disk accepted no bytes") }
            left -= written
            appended(written)
            // Skip the ranges written in full; shorten the one written in part.
            var rest = written
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
