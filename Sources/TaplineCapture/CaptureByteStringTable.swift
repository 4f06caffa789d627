/// A fixed list of short byte strings (names and words events.jsonl repeats), each
/// found by its bytes as its position in the list without hashing them through
/// `Hasher`: open addressing on the length and the first and last byte, linear
/// probing, the candidate's bytes compared a word at a time. A lookup of a listed
/// string is a few dozen instructions; a string of another length or first/last byte
/// usually ends at its first, empty slot. (`CaptureJSONKnownStrings` finds the strings
/// it hands out with one, `CaptureLineKey` and `CaptureEventType` their cases.)
///
/// Invariant: `index(of:count:)` returns `i` only when the bytes are exactly the UTF-8
/// of `list[i]` (the first of equal entries); nil for anything not listed.
///
/// Memory: the list's bytes and 2 KiB of slots, once. Immutable after `init`; shared by
/// every thread.
final class CaptureByteStringTable: @unchecked Sendable {
    /// Longest string listed (a longer one is never looked up).
    let maxLength: Int
    private static let slotCount = 512

    /// The strings' UTF-8, one after another; string `i`'s is `starts[i]..<starts[i + 1]`.
    private let bytes: UnsafeMutablePointer<UInt8>
    private let starts: UnsafeMutablePointer<Int32>
    /// Open addressing by `slot(...)`, linear probing: a string's index, or -1.
    private let slots: UnsafeMutablePointer<Int32>

    /// A table of `list` (non-empty strings, at most a few hundred).
    init(_ list: [String]) {
        precondition(list.count < Self.slotCount / 2, "a byte string table holds at most \(Self.slotCount / 2 - 1) strings")
        var utf8: [UInt8] = []
        var starts: [Int32] = [0]
        var slots = [Int32](repeating: -1, count: Self.slotCount)
        var maxLength = 0
        for (index, string) in list.enumerated() {
            let encoded = Array(string.utf8)
            precondition(!encoded.isEmpty, "a byte string table lists no empty string")
            if !list[..<index].contains(string) {
                var slot = Self.slot(count: encoded.count, first: encoded[0], last: encoded[encoded.count - 1])
                while slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
                slots[slot] = Int32(index)
            }
            utf8 += encoded
            starts.append(Int32(utf8.count))
            maxLength = max(maxLength, encoded.count)
        }
        self.maxLength = maxLength
        bytes = .allocate(capacity: max(1, utf8.count))
        bytes.initialize(from: utf8, count: utf8.count)
        self.starts = .allocate(capacity: starts.count)
        self.starts.initialize(from: starts, count: starts.count)
        self.slots = .allocate(capacity: Self.slotCount)
        self.slots.initialize(from: slots, count: Self.slotCount)
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        slots.deallocate()
    }

    @inline(__always)
    private static func slot(count: Int, first: UInt8, last: UInt8) -> Int {
        (count &* 31 &+ Int(first) &* 7 &+ Int(last)) & (slotCount - 1)
    }

    /// Whether the `count` (≥ 1) bytes at `a` and at `b` are equal: compared as a few
    /// overlapping words of eight or four bytes (or three single bytes below four), none
    /// read outside either range. Names are short, and a `memcmp` call costs more than
    /// they do to compare.
    @inline(__always)
    private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
        if count >= 8 {
            var offset = 0
            while offset &+ 8 < count {
                guard JSONStringWord.load(a + offset) == JSONStringWord.load(b + offset) else { return false }
                offset &+= 8
            }
            return JSONStringWord.load(a + (count &- 8)) == JSONStringWord.load(b + (count &- 8))
        }
        if count >= 4 {
            return load32(a) == load32(b) && load32(a + (count &- 4)) == load32(b + (count &- 4))
        }
        let middle = count &>> 1
        return a[0] == b[0] && a[middle] == b[middle] && a[count &- 1] == b[count &- 1]
    }

    @inline(__always)
    private static func load32(_ pointer: UnsafePointer<UInt8>) -> UInt32 {
        UnsafeRawPointer(pointer).loadUnaligned(as: UInt32.self)
    }

    /// The position in the list of the string whose UTF-8 is the `count` bytes at
    /// `base`, if one is listed.
    @inline(__always)
    func index(of base: UnsafePointer<UInt8>, count: Int) -> Int? {
        guard count > 0, count <= maxLength else { return nil }
        var slot = Self.slot(count: count, first: base[0], last: base[count &- 1])
        while true {
            let entry = Int(slots[slot])
            guard entry >= 0 else { return nil }
            let start = Int(starts[entry])
            if Int(starts[entry &+ 1]) &- start == count, Self.equal(bytes + start, base, count: count) { return entry }
            slot = (slot &+ 1) & (Self.slotCount - 1)
        }
    }
}
