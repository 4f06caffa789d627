/// Builds JSON text by hand into one growing byte buffer: the capture writer's
/// encoder for `events.jsonl` and `session.json` (no JSONEncoder on the hot path).
///
/// Usage: `beginObject()`, then `key("name")` followed by exactly one value
/// (`string`, `integer`, `bool`, `null`, or a nested object/array), `endObject()`.
/// Array elements are written after `element()`. Commas are inserted
/// automatically: the only state is whether the current container is still empty,
/// which is enough because a nested container always follows a key or `element()`.
///
/// Strings are escaped per RFC 8259: `"` and `\` are backslash-escaped, control
/// characters below 0x20 become `\n`, `\r`, `\t` or `\u00XX`; all other UTF-8
/// passes through unchanged. Not thread-safe (owned by the writer thread).
struct JSONLineBuilder {
    var bytes: [UInt8] = []
    private var containerIsEmpty = true

    init(capacity: Int = 64 << 10) {
        bytes.reserveCapacity(capacity)
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        containerIsEmpty = true
    }

    mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        containerIsEmpty = true
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        containerIsEmpty = false
    }

    mutating func beginArray() {
        bytes.append(UInt8(ascii: "["))
        containerIsEmpty = true
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        containerIsEmpty = false
    }

    mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
        containerIsEmpty = true
    }

    /// Starts an array element (writes the separating comma if needed).
    mutating func element() {
        if !containerIsEmpty { bytes.append(UInt8(ascii: ",")) }
        containerIsEmpty = false
    }

    /// Writes `"name":` (keys are ASCII identifiers chosen by us: no escaping needed).
    mutating func key(_ name: StaticString) {
        if !containerIsEmpty { bytes.append(UInt8(ascii: ",")) }
        containerIsEmpty = false
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes a key that is not a compile-time constant (escaped like any string).
    mutating func key(dynamic name: String) {
        if !containerIsEmpty { bytes.append(UInt8(ascii: ",")) }
        containerIsEmpty = false
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func string(_ value: String) {
        appendQuoted(value)
        containerIsEmpty = false
    }

    /// Writes a constant string chosen by us (ASCII, nothing to escape).
    mutating func string(constant value: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        containerIsEmpty = false
    }

    mutating func integer(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDigits(value == Int64.min ? UInt64(Int64.max) + 1 : UInt64(-value))
        } else {
            appendDigits(UInt64(value))
        }
        containerIsEmpty = false
    }

    mutating func integer(_ value: UInt64) {
        appendDigits(value)
        containerIsEmpty = false
    }

    mutating func integer(_ value: Int) { integer(Int64(value)) }

    mutating func bool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
        }
        containerIsEmpty = false
    }

    mutating func null() {
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])  // null
        containerIsEmpty = false
    }

    /// Decimal digits of `value`, written back to front into a stack buffer
    /// (division by the constant 10 compiles to a multiply; timestamps have 16 digits).
    private mutating func appendDigits(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes >= 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            var rest = value
            repeat {
                index -= 1
                buffer[index] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    private mutating func appendQuoted(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                if runStart < index {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                }
                runStart = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22: bytes.append(0x22)
                case 0x5C: bytes.append(0x5C)
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    let high = byte >> 4, low = byte & 0xF
                    bytes.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, 0x30 + high,
                                              low < 10 ? 0x30 + low : 0x57 + low])
                }
            }
            if runStart < utf8.count {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
