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
/// every thread (and so is its `lookup`).
final class CaptureByteStringTable: @unchecked Sendable {
    /// Longest string listed (a longer one is never looked up).
    var maxLength: Int { lookup.maxLength }
    fileprivate static let slotCount = 512

    /// The table's storage as plain pointers, for lookups that retain nothing. Valid
    /// while the table lives (a reader of many lines keeps one of a table a global
    /// holds: `CaptureFlatLine.Slots`).
    let lookup: Lookup

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
                var slot = Lookup.slot(count: encoded.count, first: encoded[0], last: encoded[encoded.count - 1])
                while slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
                slots[slot] = Int32(index)
            }
            utf8 += encoded
            starts.append(Int32(utf8.count))
            maxLength = max(maxLength, encoded.count)
        }
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, utf8.count))
        bytes.initialize(from: utf8, count: utf8.count)
        let startPointer = UnsafeMutablePointer<Int32>.allocate(capacity: starts.count)
        startPointer.initialize(from: starts, count: starts.count)
        let slotPointer = UnsafeMutablePointer<Int32>.allocate(capacity: Self.slotCount)
        slotPointer.initialize(from: slots, count: Self.slotCount)
        lookup = Lookup(maxLength: maxLength, bytes: bytes, starts: startPointer, slots: slotPointer)
    }

    deinit {
        lookup.bytes.deallocate()
        lookup.starts.deallocate()
        lookup.slots.deallocate()
    }

    /// The position in the list of the string whose UTF-8 is the `count` bytes at
    /// `base`, if one is listed.
    @inline(__always)
    func index(of base: UnsafePointer<UInt8>, count: Int) -> Int? {
        lookup.index(of: base, count: count)
    }

    /// A table's lookup: its storage, owned by the table.
    struct Lookup {
        let maxLength: Int
        /// The strings' UTF-8, one after another; string `i`'s is `starts[i]..<starts[i + 1]`.
        fileprivate let bytes: UnsafeMutablePointer<UInt8>
        fileprivate let starts: UnsafeMutablePointer<Int32>
        /// Open addressing by `slot(...)`, linear probing: a string's index, or -1.
        fileprivate let slots: UnsafeMutablePointer<Int32>

        @inline(__always)
        fileprivate static func slot(count: Int, first: UInt8, last: UInt8) -> Int {
            (count &* 31 &+ Int(first) &* 7 &+ Int(last)) & (CaptureByteStringTable.slotCount - 1)
        }

        /// As `CaptureByteStringTable.index(of:count:)`.
        @inline(__always)
        func index(of base: UnsafePointer<UInt8>, count: Int) -> Int? {
            guard count > 0, count <= maxLength else { return nil }
            var slot = Self.slot(count: count, first: base[0], last: base[count &- 1])
            while true {
                let entry = Int(slots[slot])
                guard entry >= 0 else { return nil }
                let start = Int(starts[entry])
                if Int(starts[entry &+ 1]) &- start == count, Self.equal(bytes + start, base, count: count) { return entry }
                slot = (slot &+ 1) & (CaptureByteStringTable.slotCount - 1)
            }
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
    }
}
