import Glibc

extension UnsafeBufferPointer where Element: FixedWidthInteger {
    /// The same elements as `other`, in the same order: one `memcmp` (an integer has no
    /// padding, so equal bytes are equal values), where the generic `elementsEqual`
    /// walks both an element at a time (a replay compares every header field and every
    /// response body this way: docs/performance.md).
    @inlinable
    public func sameBytes(as other: UnsafeBufferPointer<Element>) -> Bool {
        guard count == other.count else { return false }
        guard count > 0, let left = baseAddress, let right = other.baseAddress else { return true }
        return left == right || memcmp(left, right, count &* MemoryLayout<Element>.stride) == 0
    }
}

extension ArraySlice where Element == UInt8 {
    /// The same bytes as `other`, in the same order (`UnsafeBufferPointer.sameBytes(as:)`).
    @inlinable
    public func sameBytes(as other: ArraySlice<UInt8>) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBufferPointer { left in other.withUnsafeBufferPointer { left.sameBytes(as: $0) } }
    }
}
