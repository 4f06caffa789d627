import Foundation
import TaplineExport

/// `tapline import FILE.har [--capture DIR]`: turns a HAR file (Chrome,
/// Firefox, Safari, Charles, Insomnia, mitmproxy, ...) into a new capture
/// session, printing its id on stdout.
/// Exit codes: 0 imported, 1 unreadable or invalid HAR (the message names the entry and field), 2 usage error.
enum ImportCommand {
    static let usage = """
    usage: tapline import FILE.har [--capture DIR]

    Reads a HAR 1.2 file and writes it as a new capture session, so show and export work on it.

    options:
      --capture DIR   where sessions are stored (default ./captures)
      --help          this text
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let root: String
        let file: String
        do {
            root = try args.value("--capture") ?? "captures"
            let positionals = args.positionals()
            try args.finish()
            guard positionals.count == 1 else {
                throw UsageError(positionals.isEmpty ? "which HAR file?" : "one HAR file at a time, not \(positionals.count)")
            }
            file = positionals[0]
        } catch {
            StandardError.writeLine("tapline import: \(error)\n\n\(usage)")
            return 2
        }
        do throws(ExportError) {
            let result = try HARImporter(path: file).run(root: root, taplineVersion: TaplineVersion.string)
            for warning in result.warnings { StandardError.writeLine("tapline: warning: \(warning)") }
            StandardError.writeLine("tapline: imported \(result.entries) entr\(result.entries == 1 ? "y" : "ies") from \(file) into \(result.directory)")
            print(result.sessionID)
            return 0
        } catch {
            StandardError.writeLine("tapline: \(error)")
            return 1
        }
    }
}
