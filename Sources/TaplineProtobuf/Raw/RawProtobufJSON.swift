import TaplineWire

/// Renders a `RawProtobufMessage` as one line of JSON for `tapline show` and scripts:
/// an object whose keys are the field numbers as strings, in the order each number first
/// appears; a number seen more than once has an array of its values in wire order.
///
/// Values: a varint is a JSON number up to 2^53 (exact in every JSON reader), a decimal
/// string above; fixed32 / fixed64 are `"0x…"` hex strings as protoc prints them; an
/// embedded message or group is an object; other length-delimited values are a string
/// when valid UTF-8, else `{"bytes": "<base64>"}` (an object no message can look like,
/// since message keys are numbers).
///
/// Stateless.
public enum RawProtobufJSON {
    public static func render(_ message: RawProtobufMessage) -> String {
        var output: [UInt8] = []
        render(message, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func render(_ message: RawProtobufMessage, into output: inout [UInt8]) {
        // Field numbers in first-appearance order, each with the indices of its fields.
        var order: [UInt32] = []
        var indicesByNumber: [UInt32: [Int]] = [:]
        for (index, field) in message.fields.enumerated() {
            if indicesByNumber[field.number] == nil { order.append(field.number) }
            indicesByNumber[field.number, default: []].append(index)
        }
        output.append(UInt8(ascii: "{"))
        for (position, number) in order.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: "\"\(number)\":".utf8)
            let indices = indicesByNumber[number] ?? []
            if indices.count == 1 {
                render(message.fields[indices[0]].value, into: &output)
            } else {
                output.append(UInt8(ascii: "["))
                for (offset, index) in indices.enumerated() {
                    if offset > 0 { output.append(UInt8(ascii: ",")) }
                    render(message.fields[index].value, into: &output)
                }
                output.append(UInt8(ascii: "]"))
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    private static let largestExactDouble: UInt64 = 1 << 53

    private static func render(_ value: RawProtobufValue, into output: inout [UInt8]) {
        switch value {
        case .varint(let number):
            output.append(contentsOf: (number <= largestExactDouble ? "\(number)" : "\"\(number)\"").utf8)
        case .fixed32(let number):
            output.append(contentsOf: "\"0x\(hex(UInt64(number), digits: 8))\"".utf8)
        case .fixed64(let number):
            output.append(contentsOf: "\"0x\(hex(number, digits: 16))\"".utf8)
        case .lengthDelimited(let bytes, let embedded):
            if let embedded {
                render(embedded, into: &output)
            } else if UTF8Validator.isValidUTF8(bytes) {
                appendJSONString(bytes, to: &output)
            } else {
                output.append(contentsOf: "{\"bytes\":\"\(Base64.encode(bytes))\"}".utf8)
            }
        case .group(let group):
            render(group, into: &output)
        }
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Valid UTF-8 as a JSON string: `"` and `\` escaped, control characters as `\u00XX`.
    private static func appendJSONString(_ bytes: ArraySlice<UInt8>, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20, 0x7F:
                output.append(contentsOf: "\\u00".utf8)
                output.append(contentsOf: hex(UInt64(byte), digits: 2).utf8)
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
