/// Serializes `JSONValue`s to UTF-8 bytes, deterministically: members in their
/// order, the same escaping every time (only `"`, `\` and control characters
/// are escaped; other text is written as UTF-8), fixed indentation.
///
/// `indent` nil writes compact JSON on one line. Output goes to an in-memory
/// buffer the caller drains (`take()`), so large documents can be written in
/// pieces (HAR export writes one entry at a time).
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private let indent: [UInt8]?

    /// - Parameter indent: the text of one indentation level (e.g. two spaces, a tab), or nil for compact output.
    public init(indent: String? = "  ") {
        self.indent = indent.map { Array($0.utf8) }
    }

    /// The whole value as text with `indent` (default two spaces) and no trailing newline.
    public static func text(_ value: JSONValue, indent: String? = "  ") -> String {
        var writer = JSONWriter(indent: indent)
        writer.write(value, level: 0)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Returns the bytes written so far and empties the buffer.
    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }

    public mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// A newline and the indentation of `level` (nothing in compact mode).
    public mutating func newline(level: Int) {
        guard let indent else { return }
        bytes.append(0x0A)
        for _ in 0..<level { bytes.append(contentsOf: indent) }
    }

    /// Writes `value` as if it were nested `level` levels deep.
    public mutating func write(_ value: JSONValue, level: Int) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): raw(flag ? "true" : "false")
        case .number(let text): raw(text)
        case .string(let text): string(text)
        case .array(let elements):
            guard !elements.isEmpty else { raw("[]"); return }
            bytes.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(level: level + 1)
                write(element, level: level + 1)
            }
            newline(level: level)
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            guard !members.isEmpty else { raw("{}"); return }
            bytes.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(level: level + 1)
                string(member.key)
                bytes.append(UInt8(ascii: ":"))
                if indent != nil { bytes.append(0x20) }
                write(member.value, level: level + 1)
            }
            newline(level: level)
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal.
    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
