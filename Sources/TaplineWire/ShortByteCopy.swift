extension UnsafeMutablePointer where Pointee == UInt8 {
    /// Copies `count` bytes from `source` to here (the ranges must not overlap).
    ///
    /// Header names, values and JSON keys are mostly under 32 bytes; for those the
    /// copy is up to four overlapping word loads and stores done inline, where a
    /// `memcpy` call would cost more than the copy (a proxied request makes hundreds
    /// of such copies: docs/performance.md). Longer runs go to `memcpy`.
    @inlinable @inline(__always)
    public func copyShort(from source: UnsafePointer<UInt8>, count: Int) {
        let to = UnsafeMutableRawPointer(self), from = UnsafeRawPointer(source)
        switch count {
        case 17...32:
            let head0 = from.loadUnaligned(as: UInt64.self)
            let head1 = from.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let tail0 = from.loadUnaligned(fromByteOffset: count &- 16, as: UInt64.self)
            let tail1 = from.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            to.storeBytes(of: head0, as: UInt64.self)
            to.storeBytes(of: head1, toByteOffset: 8, as: UInt64.self)
            to.storeBytes(of: tail0, toByteOffset: count &- 16, as: UInt64.self)
            to.storeBytes(of: tail1, toByteOffset: count &- 8, as: UInt64.self)
        case 8...16:
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: count &- 8, as: UInt64.self)
        case 4..<8:
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: count &- 4, as: UInt32.self)
        case 1..<4:
            self[0] = source[0]
            self[count &>> 1] = source[count &>> 1]
            self[count &- 1] = source[count &- 1]
        case 0:
            break
        default:
            update(from: source, count: count)
        }
    }
}
