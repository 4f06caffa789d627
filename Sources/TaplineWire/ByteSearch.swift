import Glibc

extension UnsafeBufferPointer where Element == UInt8 {
    /// The index of the first `byte` in `range` (which lies within the buffer), found with
    /// `memchr` (a word or vector at a time, where a loop goes byte by byte); nil when
    /// there is none. For the capture's line reader (and the end of a refused HTTP/1
    /// field line, for its error message).
    @inlinable
    public func firstIndex(of byte: UInt8, in range: Range<Int>) -> Int? {
        guard !range.isEmpty, let base = baseAddress,
              let hit = memchr(base + range.lowerBound, Int32(byte), range.count) else { return nil }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
    }
}
