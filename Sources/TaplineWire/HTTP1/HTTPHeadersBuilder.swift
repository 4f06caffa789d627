/// Collects the fields of one header section as bytes in memory it owns and
/// reuses, then hands them out as an `HTTPHeaders` with one copy (`build()`).
///
/// For code that receives fields one at a time and builds many lists (an HTTP/2
/// session's header callbacks): appending here is two bounds checks and two
/// copies, with no copy-on-write check or array growth per field.
///
/// Invariant: `bytes[0..<byteCount]` and `ends[0..<endCount]` are initialized and
/// follow `HTTPHeaders`' layout (name and value back to back; two end offsets per
/// field). Not thread-safe: one owner (e.g. the session's event loop).
public struct HTTPHeadersBuilder: ~Copyable {
    private var bytes: UnsafeMutablePointer<UInt8>
    private var byteCapacity: Int
    private var byteCount = 0
    private var ends: UnsafeMutablePointer<UInt32>
    private var endCapacity: Int
    private var endCount = 0

    public init(byteCapacity: Int = 1024, fieldCapacity: Int = 32) {
        self.byteCapacity = max(64, byteCapacity)
        endCapacity = max(4, fieldCapacity * 2)
        bytes = .allocate(capacity: self.byteCapacity)
        ends = .allocate(capacity: endCapacity)
    }

    deinit {
        bytes.deallocate()
        ends.deallocate()
    }

    /// The number of fields added since the last `removeAll()`.
    public var count: Int { endCount >> 1 }

    /// Forgets the fields (keeps the memory).
    public mutating func removeAll() {
        byteCount = 0
        endCount = 0
    }

    /// Appends a field from its bytes (copied).
    @inline(__always)
    public mutating func add(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        let needed = byteCount + name.count + value.count
        if needed > byteCapacity { growBytes(to: needed) }
        if endCount + 2 > endCapacity { growEnds() }
        if let source = name.baseAddress { (bytes + byteCount).copyShort(from: source, count: name.count) }
        byteCount += name.count
        ends[endCount] = UInt32(truncatingIfNeeded: byteCount)
        if let source = value.baseAddress { (bytes + byteCount).copyShort(from: source, count: value.count) }
        byteCount += value.count
        ends[endCount + 1] = UInt32(truncatingIfNeeded: byteCount)
        endCount += 2
    }

    /// The fields added so far, as a header list (their bytes copied once).
    public func build() -> HTTPHeaders {
        HTTPHeaders(bytes: UnsafeBufferPointer(start: bytes, count: byteCount),
                    ends: UnsafeBufferPointer(start: ends, count: endCount))
    }

    @inline(never)
    private mutating func growBytes(to needed: Int) {
        precondition(needed <= Int(UInt32.max), "a header list cannot hold 4 GiB")
        let capacity = max(needed, byteCapacity * 2)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.initialize(from: bytes, count: byteCount)
        bytes.deallocate()
        bytes = grown
        byteCapacity = capacity
    }

    @inline(never)
    private mutating func growEnds() {
        let capacity = endCapacity * 2
        let grown = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        grown.initialize(from: ends, count: endCount)
        ends.deallocate()
        ends = grown
        endCapacity = capacity
    }
}
