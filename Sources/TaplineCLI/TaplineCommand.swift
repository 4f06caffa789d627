import Foundation

/// The `tapline` command line: dispatches to subcommands.
/// Exit codes: 0 success, 1 runtime failure (with a message), 2 usage error.
public enum TaplineCommand {
    static let usage = """
    usage: tapline <command> [options]

    commands:
      proxy       run the intercepting proxy (forward, or --reverse URL)
      run         run a command with its traffic captured: tapline run -- COMMAND [ARGUMENTS...]
      sessions    list capture sessions
      show        show a session's flows, or one flow in full
      export      export sessions as a Postman collection, a HAR file, curl or grpcurl commands
      import      turn a HAR file into a capture session
      diff        compare two sessions flow by flow (exit 1 when they differ)
      replay      send a session's flows again, record and compare the answers (exit 1 on any difference)
      mock        serve recorded sessions back as a mock server
      ca          show, export or regenerate the interception CA
      proto       protobuf tools: describe schemas, decode/encode messages with one, decode-raw without

    tapline <command> --help shows a command's options; tapline --version prints the version.
    """

    public static func main(_ arguments: [String]) -> Int32 {
        let rest = Array(arguments.dropFirst())
        guard let command = rest.first else {
            StandardError.writeLine(usage)
            return 2
        }
        let commandArguments = Array(rest.dropFirst())
        switch command {
        case "proxy": return ProxyCommand.run(commandArguments)
        case "run": return RunCommand.run(commandArguments)
        case "sessions": return SessionsCommand.run(commandArguments)
        case "show": return ShowCommand.run(commandArguments)
        case "export": return ExportCommand.run(commandArguments)
        case "import": return ImportCommand.run(commandArguments)
        case "diff": return DiffCommand.run(commandArguments)
        case "replay": return ReplayCommand.run(commandArguments)
        case "mock": return MockCommand.run(commandArguments)
        case "ca": return CACommand.run(commandArguments)
        case "proto": return ProtoCommand.run(commandArguments)
        case "--version", "-V", "version":
            print("tapline \(TaplineVersion.string)")
            return 0
        case "--help", "-h", "help":
            print(usage)
            return 0
        default:
            StandardError.writeLine("tapline: unknown command \(command.debugDescription)\n\n\(usage)")
            return 2
        }
    }
}
