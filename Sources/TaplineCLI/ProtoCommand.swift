/// `tapline proto <subcommand>`: protobuf tools (schemas, messages). Dispatches only;
/// each subcommand is its own type.
enum ProtoCommand {
    static let usage = """
    usage: tapline proto <subcommand> [options]

    subcommands:
      describe    show the services and messages of .proto files (or one symbol), as text or descriptor JSON
      decode      decode a binary protobuf message with a schema and print it as JSON
      encode      encode a message given as JSON into binary protobuf with a schema
      decode-raw  decode a protobuf message without a schema, like protoc --decode_raw

    tapline proto <subcommand> --help shows a subcommand's options.
    """

    static func run(_ arguments: [String]) -> Int32 {
        guard let subcommand = arguments.first else {
            StandardError.writeLine(usage)
            return 2
        }
        let rest = Array(arguments.dropFirst())
        switch subcommand {
        case "describe": return ProtoDescribeCommand.run(rest)
        case "decode": return ProtoDecodeCommand.run(rest)
        case "encode": return ProtoEncodeCommand.run(rest)
        case "decode-raw": return ProtoDecodeRawCommand.run(rest)
        case "--help", "-h", "help":
            print(usage)
            return 0
        default:
            StandardError.writeLine("tapline proto: unknown subcommand \(subcommand.debugDescription)\n\n\(usage)")
            return 2
        }
    }
}
