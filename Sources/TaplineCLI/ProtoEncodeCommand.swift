import Foundation
import TaplineProtobuf
import TaplineWire

/// `tapline proto encode`: proto3 JSON in, the binary protobuf message out, encoded with a
/// schema (`ProtobufJSONReader`, `ProtobufMessageEncoder`; docs/grpc.md, "JSON mapping").
/// The inverse of `proto decode`. Exit codes: 0 written, 1 FILE unreadable, 2 usage error,
/// a schema that does not load, an unknown --type, JSON that is not that message (naming
/// the JSON Pointer of the bad value).
enum ProtoEncodeCommand {
    static let usage = """
    usage: tapline proto encode (--proto PATH... | --descriptor-set FILE...) --type pkg.Message [FILE|-]

    Reads one message of type pkg.Message as proto3 JSON from FILE (default: standard input)
    and writes it in binary protobuf to standard output. Fields may be named by json_name or
    by their .proto name; enums by name or number; 64-bit integers as strings or numbers.

    options:
    \(ProtoSchemaSources.usage)
      --type NAME             the message type, by full name
      --help                  this text

    exit status: 0 written, 1 FILE unreadable, 2 usage error, schema error, or JSON that is not a NAME
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let messageInput: ProtoMessageCommandInput
        do {
            messageInput = try ProtoMessageCommandInput(taking: &args)
        } catch {
            StandardError.writeLine("tapline proto encode: \(error)\n\n\(usage)")
            return 2
        }
        guard let schema = messageInput.schema(command: "encode") else { return 2 }
        guard let input = messageInput.bytes(command: "encode") else { return 1 }
        let typeName = messageInput.typeName
        do {
            let json = try JSONParser.parse(input)
            let message = try ProtobufJSONReader(schema: schema).message(from: json, as: typeName)
            FileHandle.standardOutput.write(Data(ProtobufMessageEncoder(schema: schema).encode(message)))
            return 0
        } catch {
            StandardError.writeLine("tapline proto encode: the input is not a \(typeName) in JSON: \(error)")
            return 2
        }
    }
}
