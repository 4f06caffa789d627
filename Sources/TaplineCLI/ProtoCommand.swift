/// `tapline proto <subcommand>`: protobuf schema tools. Dispatches only; each
/// subcommand is its own type.
enum ProtoCommand {
    static let usage = """
    usage: tapline proto <subcommand> [options]

    subcommands:
      describe    show the services and messages of .proto files (or one symbol), as text or descriptor JSON

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
        case "--help", "-h", "help":
            print(usage)
            return 0
        default:
            StandardError.writeLine("tapline proto: unknown subcommand \(subcommand.debugDescription)\n\n\(usage)")
            return 2
        }
    }
}
