/// Byte classes of RFC 9110/9112 used by the HTTP/1 parsers: branch-light tests on a
/// byte (a static table for `tchar`) or on eight bytes at once; no allocation. Pure functions.
enum HTTP1ByteClass {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    /// `tchar` (RFC 9110 §5.6.2) as a table: the character at index `c` is "1" when byte
    /// `c` is one (16 byte values a line, from 0x00). A literal, so it is read in place:
    /// no initialization, no reference counting; one load a byte in the parsers' loops.
    @inline(__always)
    private static var tokenTable: StaticString {
        """
        0000000000000000\
        0000000000000000\
        0101111100110110\
        1111111111000000\
        0111111111111111\
        1111111111100011\
        1111111111111111\
        1111111111101010\
        0000000000000000\
        0000000000000000\
        0000000000000000\
        0000000000000000\
        0000000000000000\
        0000000000000000\
        0000000000000000\
        0000000000000000
        """
    }

    /// `tchar`: the characters allowed in methods, field names and transfer codings.
    @inline(__always)
    static func isToken(_ c: UInt8) -> Bool { tokenTable.utf8Start[Int(c)] & 1 == 1 }

    /// SP or HTAB (RFC 9110 OWS).
    @inline(__always)
    static func isWhitespace(_ c: UInt8) -> Bool { c == space || c == tab }

    /// `field-vchar / SP / HTAB`, with obs-text: anything but controls (other than HTAB) and DEL.
    @inline(__always)
    static func isFieldValueByte(_ c: UInt8) -> Bool { (c >= 0x20 && c != 0x7F) || c == tab }

    /// The eight bytes at `bytes[offset...]` (`offset + 8 <= bytes.count`; any alignment)
    /// as one word, the first byte lowest, for the tests below on eight bytes at once.
    @inline(__always)
    static func word(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress.unsafelyUnwrapped + offset).loadUnaligned(as: UInt64.self))
    }

    /// The offset in its word of the first byte flagged in `bits` (not zero) by one of
    /// the tests below.
    @inline(__always)
    static func firstFlagged(_ bits: UInt64) -> Int { bits.trailingZeroBitCount &>> 3 }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `word` equal to `byte`: zero exactly when there is
    /// none, and the lowest bit set is that of the first one (the borrow of the
    /// subtraction can also flag a later byte, never an earlier one).
    @inline(__always)
    private static func bits(_ word: UInt64, equalTo byte: UInt8) -> UInt64 {
        let diff = word ^ (ones &* UInt64(byte))
        return (diff &- ones) & ~diff & highs
    }

    /// Flags (as `bits(_:equalTo:)`) the bytes of `word` that are controls (below 0x20,
    /// HTAB included) or DEL: zero exactly when all eight pass `isFieldValueByte` and
    /// none is HTAB. Bytes of 0x80 and more (obs-text) are never flagged.
    @inline(__always)
    static func controlOrDeleteBits(_ word: UInt64) -> UInt64 {
        (word &- ones &* 0x20) & ~word & highs | bits(word, equalTo: 0x7F)
    }

    /// Flags (as `bits(_:equalTo:)`) the bytes of `word` below 0x0E: every CR and LF, and
    /// the controls below them (HTAB among them), which a caller looking for line ends
    /// passes over. One test instead of one for CR and one for LF.
    @inline(__always)
    static func lineEndingCandidateBits(_ word: UInt64) -> UInt64 {
        (word &- ones &* UInt64(cr &+ 1)) & ~word & highs
    }

    /// A byte allowed in a request-target: visible ASCII, or a byte of a UTF-8 sequence
    /// (validated separately). Controls, SP and DEL are not.
    @inline(__always)
    static func isTargetByte(_ c: UInt8) -> Bool { c > 0x20 && c != 0x7F }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// The value of a hex digit, or nil.
    @inline(__always)
    static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case 0x30...0x39: return Int(c &- 0x30)
        case 0x41...0x46: return Int(c &- 0x41 &+ 10)
        case 0x61...0x66: return Int(c &- 0x61 &+ 10)
        default: return nil
        }
    }

    /// ASCII lowercase of a byte.
    @inline(__always)
    static func lower(_ c: UInt8) -> UInt8 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }

    /// Whether `bytes[start..<end]` equals `lowercased` ignoring ASCII case.
    /// `lowercased` must be lowercase ASCII.
    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                   _ lowercased: StaticString) -> Bool {
        HTTPHeaders.bytesEqualIgnoringCase(UnsafeBufferPointer(rebasing: bytes[start..<end]), lowercased)
    }

    /// Whether `bytes[start..<end]` equals `literal` exactly.
    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end - start == count else { return false }
        let expected = literal.utf8Start
        for i in 0..<count where bytes[start + i] != expected[i] {
            return false
        }
        return true
    }

    /// `bytes[start..<end]` as a String for error messages: lossy UTF-8, at most 200 bytes.
    static func excerpt(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        let stop = min(end, start + 200)
        guard start < stop else { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<stop]), as: UTF8.self)
    }

    /// `bytes[start..<end]` as a String (UTF-8; invalid sequences become U+FFFD).
    @inline(__always)
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        guard start < end else { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}
