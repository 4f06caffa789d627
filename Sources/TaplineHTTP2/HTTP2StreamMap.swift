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
/// Everything is `@inlinable` so other modules get it specialized for their `Value`
/// (an unspecialized generic map costs more in metadata lookups than it saves).
@frozen
public struct HTTP2StreamMap<Value> {
    @usableFromInline var keys: [Int32]
    @usableFromInline var slots: [Value?]
    @usableFromInline var storedCount = 0
    @inlinable public var count: Int { storedCount }

    @inlinable
    public init() {
        keys = Array(repeating: 0, count: 16)
        slots = Array(repeating: nil, count: 16)
    }

    @inlinable
    public var isEmpty: Bool { count == 0 }

    @inlinable
    var mask: Int { keys.count - 1 }

    /// The hash's top log2(capacity) bits are the home slot.
    @inlinable @inline(__always)
    func home(_ id: Int32) -> Int {
        let shift = UInt64(64 - keys.count.trailingZeroBitCount)
        return Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: id) >> 1) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `id`, or nil.
    @inlinable @inline(__always)
    func find(_ id: Int32) -> Int? {
        var index = home(id)
        while true {
            let key = keys[index]
            if key == id { return index }
            if key == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    @inlinable
    public subscript(id: Int32) -> Value? {
        get { find(id).flatMap { slots[$0] } }
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
        if let index = find(id) {
            slots[index] = value
            return
        }
        if (count + 1) * 4 > keys.count * 3 { grow() }
        var index = home(id)
        while keys[index] != 0 { index = (index + 1) & mask }
        keys[index] = id
        slots[index] = value
        storedCount += 1
    }

    /// Removes and returns the value for `id`, if any.
    @inlinable @discardableResult
    public mutating func removeValue(forKey id: Int32) -> Value? {
        guard var hole = find(id) else { return nil }
        let removed = slots[hole]
        keys[hole] = 0
        slots[hole] = nil
        storedCount -= 1
        // Backward-shift deletion: move up every following entry whose home is not
        // between the hole and its slot, so no probe sequence crosses an empty slot.
        var index = (hole + 1) & mask
        while keys[index] != 0 {
            let want = home(keys[index])
            let distanceToHole = (hole - want) & mask
            let distanceToIndex = (index - want) & mask
            if distanceToHole < distanceToIndex {
                keys[hole] = keys[index]
                slots[hole] = slots[index]
                keys[index] = 0
                slots[index] = nil
                hole = index
            }
            index = (index + 1) & mask
        }
        return removed
    }

    @inlinable
    public mutating func removeAll() {
        self = HTTP2StreamMap()
    }

    /// The values, in no particular order.
    @inlinable
    public var values: [Value] { slots.compactMap { $0 } }

    /// Calls `body` with each value, in no particular order, without building an
    /// array. Iterate a copy of the map when `body` may change the original.
    @inlinable
    public func forEachValue(_ body: (Value) throws -> Void) rethrows {
        for index in keys.indices where keys[index] != 0 {
            if let value = slots[index] { try body(value) }
        }
    }

    /// The entries ordered by stream id.
    @inlinable
    public var entriesByID: [(id: Int32, value: Value)] {
        var result: [(id: Int32, value: Value)] = []
        result.reserveCapacity(count)
        for index in keys.indices where keys[index] != 0 {
            if let value = slots[index] { result.append((keys[index], value)) }
        }
        return result.sorted { $0.id < $1.id }
    }

    /// The longest run of occupied slots: what a removal's backward shift may walk.
    var longestRun: Int {
        var longest = 0, run = 0
        for key in keys + keys {  // twice around, for a run that wraps
            run = key == 0 ? 0 : run + 1
            longest = max(longest, run)
        }
        return min(longest, keys.count)
    }

    @inlinable
    mutating func grow() {
        let oldKeys = keys
        let oldSlots = slots
        keys = Array(repeating: 0, count: oldKeys.count * 2)
        slots = Array(repeating: nil, count: oldKeys.count * 2)
        storedCount = 0
        for index in oldKeys.indices where oldKeys[index] != 0 {
            if let value = oldSlots[index] { insert(value, for: oldKeys[index]) }
        }
    }
}
