/// An incremental UTF-8 validator (RFC 3629): feed bytes in any split and learn
/// as soon as they cannot be valid, e.g. a text message arriving in fragments.
///
/// Rejects overlong forms, surrogates (U+D800-DFFF), code points above U+10FFFF
/// and stray continuation bytes. `isComplete` is false while a sequence is cut.
///
/// A value type; not thread-safe.
public struct UTF8Validator: Sendable, Equatable {
    /// Continuation bytes still expected for the current sequence.
    private var remaining = 0
    /// Allowed range of the next continuation byte (narrower right after some lead bytes).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    public private(set) var isValid = true

    public init() {}

    /// True when the bytes so far are valid and do not end inside a sequence.
    public var isComplete: Bool { isValid && remaining == 0 }

    /// Checks `bytes`; returns false (and stays invalid) once an invalid byte is seen.
    @discardableResult
    public mutating func validate(_ bytes: some Collection<UInt8>) -> Bool {
        scan(bytes)
    }

    /// `validate` for contiguous bytes. A concrete entry point, so that a caller in
    /// another module runs a loop specialized here: the generic one, called across
    /// modules, goes through witness tables and boxes every byte (two mallocs a
    /// byte; the capture's slow path for header values paid ~7,000 instructions for
    /// a 14-byte ETag).
    @discardableResult
    public mutating func validate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        scan(bytes)
    }

    @inline(__always)
    private mutating func scan(_ bytes: some Collection<UInt8>) -> Bool {
        guard isValid else { return false }
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            if remaining == 0 {
                if byte < 0x80 { continue }
                switch byte {
                case 0xC2...0xDF: remaining = 1; lower = 0x80; upper = 0xBF
                case 0xE0: remaining = 2; lower = 0xA0; upper = 0xBF
                case 0xE1...0xEC, 0xEE, 0xEF: remaining = 2; lower = 0x80; upper = 0xBF
                case 0xED: remaining = 2; lower = 0x80; upper = 0x9F
                case 0xF0: remaining = 3; lower = 0x90; upper = 0xBF
                case 0xF1...0xF3: remaining = 3; lower = 0x80; upper = 0xBF
                case 0xF4: remaining = 3; lower = 0x80; upper = 0x8F
                default:
                    isValid = false
                    return false
                }
            } else {
                guard byte >= lower, byte <= upper else {
                    isValid = false
                    return false
                }
                remaining -= 1
                lower = 0x80
                upper = 0xBF
            }
        }
        return true
    }

    /// True when `bytes` on their own are complete, valid UTF-8.
    public static func isValidUTF8(_ bytes: some Collection<UInt8>) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }
}
