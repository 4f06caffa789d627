/// Tests on eight bytes of JSON string text at once (SWAR: one `UInt64`, the first
/// byte in the low bits), for the capture writer (`JSONLineBuilder`, copying what
/// needs no escape) and the direct line reader (`CaptureFlatLine`, finding a string's
/// end). Stateless.
enum JSONStringWord {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The eight bytes at `pointer` (any alignment), first byte lowest.
    @inline(__always)
    static func load(_ pointer: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self))
    }

    /// The high bit of each byte of `word` that is `"` or `\\` (for text already checked,
    /// where only a string's end and its escapes are looked for): zero exactly when there
    /// is none, and the lowest bit set is that of the first such byte (a borrow can also
    /// flag a byte after it, never one before).
    @inline(__always)
    static func quotesOrBackslashes(_ word: UInt64) -> UInt64 {
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & highs
    }

    /// The high bit of each byte of `word` that is below 0x20, `"` or `\\` (a byte is
    /// flagged by the borrow of subtracting from it): zero exactly when there is none,
    /// and the lowest bit set is that of the first such byte (a borrow can also flag a
    /// byte after it, never one before).
    @inline(__always)
    static func bytesNeedingEscape(_ word: UInt64) -> UInt64 {
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let quotes = (quote &- ones) & ~quote & highs
        let backslashes = (backslash &- ones) & ~backslash & highs
        return control | quotes | backslashes
    }
}
