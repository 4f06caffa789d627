/// A borrowed view of an `HTTPHeaders`' bytes: each field's name and value as
/// byte buffers, in wire order. Valid only inside `HTTPHeaders.withUnsafeFieldBytes`;
/// used where a head is forwarded, handed to nghttp2 or captured without making
/// `String`s.
public struct HTTPHeaderFieldBytes {
    /// Every name and value, back to back in wire order.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// Two entries per field: where its name ends, where its value ends.
    @usableFromInline let ends: UnsafeBufferPointer<UInt32>

    @inlinable
    init(bytes: UnsafeBufferPointer<UInt8>, ends: UnsafeBufferPointer<UInt32>) {
        self.bytes = bytes
        self.ends = ends
    }

    /// The number of fields.
    @inlinable public var count: Int { ends.count >> 1 }

    /// Where each name and value ends in `bytes` (two entries a field): with `bytes`, all
    /// the list is (two lists are the same when both are).
    @inlinable public var endOffsets: UnsafeBufferPointer<UInt32> { ends }

    /// The name of field `index` (0 ..< count).
    @inlinable @inline(__always)
    public func name(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        let start = index == 0 ? 0 : Int(ends[index &* 2 &- 1])
        return slice(start, Int(ends[index &* 2]))
    }

    /// The value of field `index` (0 ..< count).
    @inlinable @inline(__always)
    public func value(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        slice(Int(ends[index &* 2]), Int(ends[index &* 2 &+ 1]))
    }

    /// The value of field `index` as a `String` (decoded as UTF-8; U+FFFD where invalid).
    @inlinable public func valueString(_ index: Int) -> String { HTTPHeaders.string(value(index)) }

    /// Field `index`'s name equals `name` ASCII case-insensitively. (A loop over the
    /// fields takes the name's bytes once instead: `withUTF8Bytes` costs more than most
    /// comparisons.)
    @inlinable @inline(__always)
    public func nameEquals(_ index: Int, _ name: String) -> Bool {
        name.withUTF8Bytes { HTTPHeaders.bytesEqualIgnoringCase(self.name(index), $0) }
    }

    /// Field `index`'s name is exactly `name` (byte for byte: HTTP/2 names are lowercase).
    @inlinable @inline(__always)
    public func nameIs(_ index: Int, _ name: StaticString) -> Bool {
        HTTPCommonTokens.equals(self.name(index), name)
    }

    /// The position of the first field named `name` (case-insensitively), if any.
    public func firstIndex(name: String) -> Int? {
        name.withUTF8Bytes { wanted in
            for index in 0..<count where HTTPHeaders.bytesEqualIgnoringCase(self.name(index), wanted) {
                return index
            }
            return nil
        }
    }

    /// `firstIndex(name:)` for a name known at compile time: its bytes need no `String`
    /// borrowed (`withUTF8Bytes` costs more than most fields' length check).
    @inlinable
    public func firstIndex(literalName name: StaticString) -> Int? {
        for index in 0..<count where HTTPHeaders.bytesEqualIgnoringCase(self.name(index), name) { return index }
        return nil
    }

    @inlinable @inline(__always)
    func slice(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes.baseAddress.map { $0 + start }, count: end &- start)
    }
}
