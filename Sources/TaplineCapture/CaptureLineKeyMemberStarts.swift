/// Each `CaptureLineKey`'s member start as a writer spells it, `"name":`, held as words
/// so that the direct reader (`CaptureFlatLine`) can tell whether a member is the one
/// it expects next with two or three word compares, instead of scanning the name as a
/// string and looking it up (`CaptureLineKey.names`).
///
/// Invariant: `Lookup.length(of:at:available:)` returns the length of key `k`'s member
/// start only when the bytes there are exactly `"`, `k.jsonName`, `"` and `:`, which the
/// reader's general path reads as a name without escapes naming `k` followed by its
/// colon; else 0.
///
/// Memory: one 40-byte entry per key (~3 KiB), once. Immutable after `init`; shared by
/// every thread (and so is its `lookup`).
final class CaptureLineKeyMemberStarts: @unchecked Sendable {
    /// The member starts of every key. A global: a reader of many lines keeps its
    /// `lookup` (`CaptureFlatLine.Slots`), as it does `CaptureLineKey.names`'.
    static let shared = CaptureLineKeyMemberStarts()

    /// The entries as a plain pointer, for lookups that retain nothing; valid while the
    /// table lives.
    let lookup: Lookup

    private init() {
        let entries = UnsafeMutablePointer<Lookup.Entry>.allocate(capacity: CaptureLineKey.count)
        for key in CaptureLineKey.allCases {
            let start = Array("\"\(key.jsonName)\":".utf8)
            // `length(of:at:available:)` compares bytes 0..<8, 8..<16 and the last eight:
            // every byte of a start of at most 24.
            precondition(start.count <= 24, "member start \(key.jsonName) is longer than the three words compared")
            // Zeros after a short start: only its own bytes are compared (`firstMask`).
            func word(at offset: Int) -> UInt64 {
                var value: UInt64 = 0
                for index in 0..<8 where offset + index < start.count {
                    value |= UInt64(start[offset + index]) << (8 * index)
                }
                return value
            }
            let firstMask: UInt64 = start.count >= 8 ? ~0 : (1 << (8 * start.count)) - 1
            entries[Int(key.rawValue)] = Lookup.Entry(
                first: word(at: 0), firstMask: firstMask, middle: word(at: 8),
                last: word(at: max(0, start.count - 8)), length: start.count)
        }
        lookup = Lookup(entries: entries)
    }

    deinit { lookup.entries.deallocate() }

    /// The table's storage, owned by the table.
    struct Lookup {
        struct Entry {
            /// The first eight bytes (first byte lowest, `JSONStringWord.load`), zeros past
            /// the end of a shorter start, and the mask of the start's own bytes in it.
            let first: UInt64
            let firstMask: UInt64
            /// Bytes 8..<16 (compared only for a start longer than 16).
            let middle: UInt64
            /// The last eight bytes (compared only for a start longer than 8).
            let last: UInt64
            /// The start's length, from 4 (`"t":`).
            let length: Int
        }

        fileprivate let entries: UnsafeMutablePointer<Entry>

        /// The length of key `key`'s (its `rawValue`) member start if the `available`
        /// bytes at `bytes` begin with it, else 0. Compares whole words only: fewer than
        /// eight bytes available answers 0 (the caller reads such a member the general way).
        @inline(__always)
        func length(of key: Int, at bytes: UnsafePointer<UInt8>, available: Int) -> Int {
            let entry = entries[key]
            guard available >= 8, available >= entry.length,
                  (JSONStringWord.load(bytes) ^ entry.first) & entry.firstMask == 0 else { return 0 }
            if entry.length > 8 {
                guard JSONStringWord.load(bytes + (entry.length &- 8)) == entry.last else { return 0 }
                if entry.length > 16, JSONStringWord.load(bytes + 8) != entry.middle { return 0 }
            }
            return entry.length
        }
    }
}
