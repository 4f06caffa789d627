import Foundation
import TaplineProtobuf
import TaplineWire

/// `tapline proto decode`: one binary protobuf message in, its proto3 JSON out, decoded
/// with a schema (`ProtobufMessageDecoder`, `ProtobufJSONPrinter`; docs/grpc.md, "JSON
/// mapping"). Like `protoc --decode`, but JSON. Exit codes: 0 printed, 1 FILE unreadable,
/// 2 usage error, a schema that does not load, an unknown --type, input that is not that message.
enum ProtoDecodeCommand {
    static let usage = """
    usage: tapline proto decode (--proto PATH... | --descriptor-set FILE...) --type pkg.Message [options] [FILE|-]

    Reads one binary protobuf message of type pkg.Message from FILE (default: standard input)
    and prints it as proto3 JSON (json_name keys, 64-bit integers as strings, bytes as base64,
    enums by name, well-known types in their JSON forms; fields the schema lacks by number).

    options:
    \(ProtoSchemaSources.usage)
      --type NAME             the message type, by full name
      --defaults              also print fields at their default values (proto3)
      --compact               one line instead of indented JSON
      --help                  this text

    exit status: 0 printed, 1 FILE unreadable, 2 usage error, schema error, or input that is not a NAME
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let messageInput: ProtoMessageCommandInput
        let defaults: Bool
        let compact: Bool
        do {
            defaults = args.flag("--defaults")
            compact = args.flag("--compact")
            messageInput = try ProtoMessageCommandInput(taking: &args)
        } catch {
            StandardError.writeLine("tapline proto decode: \(error)\n\n\(usage)")
            return 2
        }
        guard let schema = messageInput.schema(command: "decode") else { return 2 }
        guard let input = messageInput.bytes(command: "decode") else { return 1 }
        let typeName = messageInput.typeName
        do {
            let message = try ProtobufMessageDecoder(schema: schema).decode(input, as: typeName)
            let json = try ProtobufJSONPrinter(schema: schema, includeDefaultValues: defaults).json(for: message)
            print(JSONWriter.text(json, indent: compact ? nil : "  "))
            return 0
        } catch {
            StandardError.writeLine("tapline proto decode: the input is not a \(typeName): \(error)")
            return 2
        }
    }
}
