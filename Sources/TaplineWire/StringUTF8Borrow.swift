extension String {
    /// Calls `body` with this string's UTF-8 bytes without copying the String value
    /// (so without retaining its storage): in place for native strings, from the
    /// stack for small ones, and from one contiguous copy only for bridged or
    /// foreign strings. The pointer is valid only inside `body`.
    ///
    /// Hot paths (header copies, name comparisons, JSON escaping) use this instead
    /// of `var copy = string; copy.withUTF8 { … }`, which retains and releases the
    /// storage around every call.
    @inlinable @inline(__always)
    public func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return try copy.withUTF8(body)
    }
}
