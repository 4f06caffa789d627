import Foundation
import TaplineCapture

/// `tapline sessions`: lists the capture sessions under `--capture DIR`,
/// oldest first (newest last), as a table or `--json`.
/// Exit codes: 0 listed (also when there are none), 2 usage error.
enum SessionsCommand {
    static let usage = """
    usage: tapline sessions [--capture DIR] [--json]

    Lists capture sessions, newest last: id, start time (local), flows, size on disk,
    and whether the proxy closed the session cleanly.

    options:
      --capture DIR   where sessions are stored (default ./captures, as for tapline proxy)
      --json          machine-readable output
      --help          this text
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let root: String
        let json: Bool
        do {
            root = try args.value("--capture") ?? "captures"
            json = args.flag("--json")
            try args.finish()
        } catch {
            StandardError.writeLine("tapline sessions: \(error)\n\n\(usage)")
            return 2
        }
        let (sessions, warnings) = SessionCatalog(root: root).list()
        for warning in warnings { StandardError.writeLine("tapline: warning: \(warning)") }
        if json {
            print(SessionTable.json(sessions))
            return 0
        }
        if sessions.isEmpty {
            StandardError.writeLine("tapline: no capture sessions in \(root) (record one with `tapline proxy --capture \(root)`)")
            return 0
        }
        for line in SessionTable.lines(sessions, style: TerminalStyle(fileDescriptor: 1)) { print(line) }
        return 0
    }
}
