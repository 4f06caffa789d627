/// Renders a `RawProtobufMessage` exactly as `protoc --decode_raw` prints it (protobuf's
/// text_format.cc, `PrintUnknownFields`): one field a line, `N: value`, two spaces of
/// indent per level.
///
/// - varint: decimal, unsigned (`1: 18446744073709551615` for -1);
/// - fixed32 / fixed64: `0x` and 8 / 16 lower-case hex digits;
/// - embedded message or group: `N {`, its fields, `}`;
/// - other length-delimited values: a double-quoted C-escaped string (`\n \r \t \" \' \\`,
///   every other byte outside 0x20-0x7E as three octal digits, UTF-8 included).
///
/// Stateless.
public enum RawProtobufTextFormat {
    public static func render(_ message: RawProtobufMessage) -> String {
        var output: [UInt8] = []
        render(message, indent: 0, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func render(_ message: RawProtobufMessage, indent: Int, into output: inout [UInt8]) {
        for field in message.fields {
            output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
            output.append(contentsOf: String(field.number).utf8)
            switch field.value {
            case .varint(let value):
                output.append(contentsOf: ": \(value)\n".utf8)
            case .fixed32(let value):
                output.append(contentsOf: ": 0x".utf8)
                appendHex(UInt64(value), digits: 8, to: &output)
                output.append(UInt8(ascii: "\n"))
            case .fixed64(let value):
                output.append(contentsOf: ": 0x".utf8)
                appendHex(value, digits: 16, to: &output)
                output.append(UInt8(ascii: "\n"))
            case .lengthDelimited(let bytes, let embedded):
                if let embedded {
                    renderBlock(embedded, indent: indent, into: &output)
                } else {
                    output.append(contentsOf: ": \"".utf8)
                    appendCEscaped(bytes, to: &output)
                    output.append(contentsOf: "\"\n".utf8)
                }
            case .group(let group):
                renderBlock(group, indent: indent, into: &output)
            }
        }
    }

    private static func renderBlock(_ message: RawProtobufMessage, indent: Int, into output: inout [UInt8]) {
        output.append(contentsOf: " {\n".utf8)
        render(message, indent: indent + 2, into: &output)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent))
        output.append(contentsOf: "}\n".utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendHex(_ value: UInt64, digits: Int, to output: inout [UInt8]) {
        for position in stride(from: digits - 1, through: 0, by: -1) {
            output.append(hexDigits[Int(value >> UInt64(position * 4) & 0xF)])
        }
    }

    /// absl::CEscape: the escapes C knows by letter, octal for other non-printable bytes.
    private static func appendCEscaped(_ bytes: ArraySlice<UInt8>, to output: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"): output.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: #"\t"#.utf8)
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "'"): output.append(contentsOf: #"\'"#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x20...0x7E: output.append(byte)
            default:
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: "0") + byte >> 6)
                output.append(UInt8(ascii: "0") + (byte >> 3) & 7)
                output.append(UInt8(ascii: "0") + byte & 7)
            }
        }
    }
}
