import Foundation
import TaplineProtobuf

/// `tapline proto decode-raw`: decodes one binary protobuf message without a schema and
/// prints it as `protoc --decode_raw` does (or as JSON), for looking at a captured
/// message or a file by hand. The decoding is `RawProtobufMessage`'s.
enum ProtoDecodeRawCommand {
    static let usage = """
    usage: tapline proto decode-raw [--json] [FILE]

    Reads one binary protobuf message from FILE (default: standard input) and prints its
    fields by number, as protoc --decode_raw does: varints in decimal, fixed32/fixed64 in
    hex, embedded messages in braces, other length-delimited values as C-escaped strings.
      --json   print one line of JSON instead: {"1": 150, "2": ["a", "b"], "3": {...}}
               (field numbers as keys, repeated numbers as arrays, bytes that are not
               UTF-8 as {"bytes": "<base64>"})

    exit status: 0 decoded, 1 FILE unreadable, 2 usage error or input that is not protobuf
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let json = args.flag("--json")
        let files = args.positionals()
        do {
            try args.finish()
            if files.count > 1 { throw UsageError("give at most one FILE (got \(files.count))") }
        } catch {
            StandardError.writeLine("tapline proto decode-raw: \(error)\n\n\(usage)")
            return 2
        }
        let input: Data
        if let path = files.first, path != "-" {
            guard let data = FileManager.default.contents(atPath: path) else {
                StandardError.writeLine("tapline proto decode-raw: cannot read \(path)")
                return 1
            }
            input = data
        } else {
            input = FileHandle.standardInput.readDataToEndOfFile()
        }
        let message: RawProtobufMessage
        do {
            message = try RawProtobufMessage(decoding: [UInt8](input))
        } catch {
            StandardError.writeLine("tapline proto decode-raw: the input is not a protobuf message: \(error)")
            return 2
        }
        if json {
            print(RawProtobufJSON.render(message))
        } else {
            print(RawProtobufTextFormat.render(message), terminator: "")
        }
        return 0
    }
}
