/// The one allocation behind a non-empty `HTTPHeaders`: per field two end offsets
/// (`UInt32`: where its name ends, where its value ends), then every name and value
/// back to back in wire order.
///
/// One object instead of two arrays: a header list costs one malloc, and each copy
/// of it (events, heads, capture records pass them around) one reference count
/// operation instead of two.
///
/// Layout of the tail: `endCapacity` `UInt32`s, then `byteCapacity` bytes (that
/// region is bound to `UInt8`). The header keeps the addresses of both regions and
/// its own (objects never move): reading or writing through them is a load or a
/// store, where `withUnsafeMutablePointers` or the `header` setter would retain and
/// release the object around every field added or list read.
///
/// Invariants: `endCount <= endCapacity`, `endCount` is even,
/// `byteCount <= byteCapacity`, the first `endCount` offsets and the first
/// `byteCount` bytes are initialized, and the offsets never decrease and end at
/// `byteCount`. The addresses are valid while the object lives: whoever uses them
/// must hold the object (an `HTTPHeaders` the caller borrows does).
///
/// Mutated only through an `HTTPHeaders` that holds the sole reference
/// (copy-on-write): once shared, a storage is never written again, which is why
/// `HTTPHeaders` can be sent across threads.
@usableFromInline
final class HTTPHeaderStorage: ManagedBuffer<HTTPHeaderStorage.Layout, UInt32> {
    /// Counts, capacities and where the two tail regions and this header are.
    @usableFromInline
    struct Layout {
        @usableFromInline var endCount = 0
        @usableFromInline var byteCount = 0
        @usableFromInline let endCapacity: Int
        @usableFromInline let byteCapacity: Int
        @usableFromInline var ends: UnsafeMutablePointer<UInt32>
        @usableFromInline var bytes: UnsafeMutablePointer<UInt8>
        /// This header's own address, for updating the counts.
        @usableFromInline var address: UnsafeMutablePointer<Layout>?
    }

    /// An empty storage with room for `fields` fields and `bytes` bytes.
    @usableFromInline
    static func make(fields: Int, bytes: Int) -> HTTPHeaderStorage {
        let endCapacity = max(2, fields * 2)
        let byteCapacity = max(8, bytes)
        let words = endCapacity + (byteCapacity + 3) / 4
        // The header is made before the tail's address is known: placeholders, never
        // read, replaced below.
        let placeholder = UnsafeMutablePointer<UInt32>(bitPattern: MemoryLayout<UInt32>.alignment).unsafelyUnwrapped
        let buffer = create(minimumCapacity: words) { _ in
            Layout(endCapacity: endCapacity, byteCapacity: byteCapacity,
                   ends: placeholder, bytes: UnsafeMutableRawPointer(placeholder).assumingMemoryBound(to: UInt8.self))
        }
        let storage = unsafeDowncast(buffer, to: HTTPHeaderStorage.self)
        storage.withUnsafeMutablePointers { layout, ends in
            layout.pointee.address = layout
            layout.pointee.ends = ends
            layout.pointee.bytes = UnsafeMutableRawPointer(ends + endCapacity)
                .bindMemory(to: UInt8.self, capacity: byteCapacity)
        }
        return storage
    }

    /// A storage holding `bytes` and `ends` (in `HTTPHeaders`' layout), with exactly that room.
    static func make(copying bytes: UnsafeBufferPointer<UInt8>, ends: UnsafeBufferPointer<UInt32>) -> HTTPHeaderStorage {
        let storage = make(fields: ends.count / 2, bytes: bytes.count)
        let layout = storage.header
        if let source = ends.baseAddress { layout.ends.initialize(from: source, count: ends.count) }
        if let source = bytes.baseAddress { layout.bytes.initialize(from: source, count: bytes.count) }
        storage.setCounts(ends: ends.count, bytes: bytes.count)
        return storage
    }

    /// A copy with room for at least `fields` fields and `bytes` bytes (for growth or
    /// before writing to a shared storage).
    @usableFromInline
    func copy(fields: Int, bytes: Int) -> HTTPHeaderStorage {
        let layout = header
        let copy = HTTPHeaderStorage.make(fields: max(fields, layout.endCount / 2), bytes: max(bytes, layout.byteCount))
        copy.header.ends.initialize(from: layout.ends, count: layout.endCount)
        copy.header.bytes.initialize(from: layout.bytes, count: layout.byteCount)
        copy.setCounts(ends: layout.endCount, bytes: layout.byteCount)
        return copy
    }

    /// Records how many end offsets and bytes are initialized.
    @inlinable @inline(__always)
    func setCounts(ends endCount: Int, bytes byteCount: Int) {
        let address = header.address.unsafelyUnwrapped
        address.pointee.endCount = endCount
        address.pointee.byteCount = byteCount
    }

    /// True when `fields` more fields and `bytes` more bytes fit.
    @inlinable @inline(__always)
    func hasRoom(addingFields fields: Int, bytes: Int) -> Bool {
        let layout = header
        return layout.endCount &+ fields &* 2 <= layout.endCapacity && layout.byteCount &+ bytes <= layout.byteCapacity
    }

    /// Appends one field to the storage described by `layout` (its header, read just
    /// before; room must have been made: `hasRoom(addingFields: 1, ...)`).
    ///
    /// Static, on the header's copy: with the storage object in hand across the raw
    /// writes, the compiler retains and releases it around them.
    @inlinable @inline(__always)
    static func append(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>, to layout: Layout) {
        var at = layout.byteCount
        if let source = name.baseAddress { (layout.bytes + at).copyShort(from: source, count: name.count) }
        at &+= name.count
        layout.ends[layout.endCount] = UInt32(truncatingIfNeeded: at)
        if let source = value.baseAddress { (layout.bytes + at).copyShort(from: source, count: value.count) }
        at &+= value.count
        layout.ends[layout.endCount &+ 1] = UInt32(truncatingIfNeeded: at)
        let address = layout.address.unsafelyUnwrapped
        address.pointee.endCount = layout.endCount &+ 2
        address.pointee.byteCount = at
    }

    /// Appends the fields `range` (not empty) of `other` to the storage described by
    /// `layout`, their bytes (`other.bytes[byteStart..<byteEnd]`) in one copy and
    /// their end offsets moved to where the bytes land (room must have been made for
    /// `range.count` fields and the bytes).
    @inlinable
    static func append(fieldsIn range: Range<Int>, of other: HTTPHeaderFieldBytes,
                       bytes byteStart: Int, _ byteEnd: Int, to layout: Layout) {
        let base = layout.byteCount
        if byteEnd > byteStart, let source = other.bytes.baseAddress {
            (layout.bytes + base).initialize(from: source + byteStart, count: byteEnd &- byteStart)
        }
        var at = layout.endCount
        for end in (range.lowerBound &* 2)..<(range.upperBound &* 2) {
            layout.ends[at] = UInt32(truncatingIfNeeded: Int(other.ends[end]) &- byteStart &+ base)
            at &+= 1
        }
        let address = layout.address.unsafelyUnwrapped
        address.pointee.endCount = at
        address.pointee.byteCount = base &+ (byteEnd &- byteStart)
    }
}
