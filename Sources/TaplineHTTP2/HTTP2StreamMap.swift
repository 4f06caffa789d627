/// A map from HTTP/2 stream id to `Value`, for the open streams of one connection.
///
/// Stream ids are positive and grow by two (odd from clients, even from servers).
/// The home slot is `id >> 1` times a 64-bit Fibonacci constant, top bits: one
/// multiply instead of a SipHash round per access (which showed up at ~27 hashes
/// per proxied request with `Dictionary`). The multiply matters: with `id >> 1`
/// itself, the ~100 streams a busy connection has open sat in one contiguous run,
/// and every removal's backward shift walked the whole run.
///
/// Invariants: the capacity is a power of two and the table is at most 3/4 full;
/// a slot holds key 0 exactly when it is empty (stream 0 is the connection, never a
/// key). Open addressing with linear probing; removal shifts the following entries
/// back, so there are no tombstones. Value semantics like `Dictionary`; not
/// thread-safe (each connection's map is confined to its event loop).
///
/// Keys and values share one array of slots, and each operation works on its buffer
/// directly: one uniqueness check per change instead of one per array write (two
/// parallel arrays with checked writes were ~60 instructions an operation, at ~25
/// operations per proxied request).
///
/// Everything is `@inlinable` so other modules get it specialized for their `Value`
/// (an unspecialized generic map costs more in metadata lookups than it saves).
@frozen
public struct HTTP2StreamMap<Value> {
    /// A stream id (0: empty) and its value.
    @frozen @usableFromInline
    struct Slot {
        @usableFromInline var key: Int32
        @usableFromInline var value: Value?

        @inlinable
        init(key: Int32, value: Value?) {
            self.key = key
            self.value = value
        }
    }

    @usableFromInline var slots: [Slot]
    /// 64 - log2(capacity): the hash's top bits that are the home slot.
    @usableFromInline var shift: UInt64
    @usableFromInline var storedCount = 0
    @inlinable public var count: Int { storedCount }

    @inlinable
    public init() {
        self.init(capacity: 16)
    }

    /// An empty map of `capacity` slots (a power of two).
    @inlinable
    init(capacity: Int) {
        slots = Array(repeating: Slot(key: 0, value: nil), count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// The home slot of `id` in a table whose capacity gives `shift`.
    @inlinable @inline(__always)
    static func home(_ id: Int32, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: id) >> 1) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `id` in `slots`, or nil.
    @inlinable @inline(__always)
    static func find(_ id: Int32, in slots: UnsafeBufferPointer<Slot>, shift: UInt64) -> Int? {
        let mask = slots.count &- 1
        var index = home(id, shift: shift)
        while true {
            let key = slots[index].key
            if key == id { return index }
            if key == 0 { return nil }
            index = (index &+ 1) & mask
        }
    }

    @inlinable
    public subscript(id: Int32) -> Value? {
        get {
            let shift = shift
            return slots.withUnsafeBufferPointer { slots in
                Self.find(id, in: slots, shift: shift).flatMap { slots[$0].value }
            }
        }
        set {
            if let newValue {
                insert(newValue, for: id)
            } else {
                removeValue(forKey: id)
            }
        }
    }

    @inlinable
    mutating func insert(_ value: Value, for id: Int32) {
        precondition(id > 0, "HTTP/2 stream ids used as keys are positive")
        if (storedCount + 1) * 4 > slots.count * 3, self[id] == nil { grow() }
        let shift = shift
        let added = slots.withUnsafeMutableBufferPointer { slots in
            let mask = slots.count &- 1
            var index = Self.home(id, shift: shift)
            while true {
                let key = slots[index].key
                if key == id {
                    slots[index].value = value
                    return false
                }
                if key == 0 {
                    slots[index] = Slot(key: id, value: value)
                    return true
                }
                index = (index &+ 1) & mask
            }
        }
        if added { storedCount += 1 }
    }

    /// Removes and returns the value for `id`, if any.
    @inlinable @discardableResult
    public mutating func removeValue(forKey id: Int32) -> Value? {
        let shift = shift
        let removed: Value?? = slots.withUnsafeMutableBufferPointer { slots in
            guard var hole = Self.find(id, in: UnsafeBufferPointer(slots), shift: shift) else { return .none }
            let mask = slots.count &- 1
            let removed = slots[hole].value
            slots[hole] = Slot(key: 0, value: nil)
            // Backward-shift deletion: move up every following entry whose home is not
            // between the hole and its slot, so no probe sequence crosses an empty slot.
            var index = (hole &+ 1) & mask
            while slots[index].key != 0 {
                let want = Self.home(slots[index].key, shift: shift)
                let distanceToHole = (hole &- want) & mask
                let distanceToIndex = (index &- want) & mask
                if distanceToHole < distanceToIndex {
                    slots[hole] = slots[index]
                    slots[index] = Slot(key: 0, value: nil)
                    hole = index
                }
                index = (index &+ 1) & mask
            }
            return .some(removed)
        }
        guard let removed else { return nil }
        storedCount -= 1
        return removed
    }

    @inlinable
    public mutating func removeAll() {
        self = HTTP2StreamMap()
    }

    /// The values, in no particular order.
    @inlinable
    public var values: [Value] { slots.compactMap { $0.value } }

    /// Calls `body` with each value, in no particular order, without building an
    /// array. Iterate a copy of the map when `body` may change the original.
    @inlinable
    public func forEachValue(_ body: (Value) throws -> Void) rethrows {
        for slot in slots where slot.key != 0 {
            if let value = slot.value { try body(value) }
        }
    }

    /// The entries ordered by stream id.
    @inlinable
    public var entriesByID: [(id: Int32, value: Value)] {
        var result: [(id: Int32, value: Value)] = []
        result.reserveCapacity(count)
        for slot in slots where slot.key != 0 {
            if let value = slot.value { result.append((slot.key, value)) }
        }
        return result.sorted { $0.id < $1.id }
    }

    /// The longest run of occupied slots: what a removal's backward shift may walk.
    var longestRun: Int {
        var longest = 0, run = 0
        for slot in slots + slots {  // twice around, for a run that wraps
            run = slot.key == 0 ? 0 : run + 1
            longest = max(longest, run)
        }
        return min(longest, slots.count)
    }

    @inlinable
    mutating func grow() {
        let old = slots
        self = HTTP2StreamMap(capacity: old.count * 2)
        for slot in old where slot.key != 0 {
            if let value = slot.value { insert(value, for: slot.key) }
        }
    }
}
