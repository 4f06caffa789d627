import Foundation
import TaplineCapture
import TaplineExport
import TaplineProtobuf
import TaplineReplay

/// `tapline diff A B [--json] [--ignore-header N]... [--ignore-path P]... [--slower-than X] [--filter EXPR]
/// [--proto PATH]... [--proto-path DIR]... [--descriptor-set FILE]...`:
/// compares two sessions flow by flow, gRPC calls message by message (docs/replay.md, "Diff").
/// Exit codes: 0 every paired flow equal and none unpaired, 1 any difference or
/// unpaired flow, 2 usage error, a session that cannot be found or read, or a damaged flow.
enum DiffCommand {
    static let usage = """
    usage: tapline diff A B [--json] [--ignore-header NAME]... [--ignore-path POINTER]... [--slower-than X]
                            [--filter EXPR] [--capture DIR]
                            [--proto PATH]... [--proto-path DIR]... [--descriptor-set FILE]...

    A and B are sessions: an id, a unique prefix of one, `latest`, or a session directory.
    Flows are paired by request (method, path, query, body), or, when B is a replay of A, each B flow with
    the A flow it re-sent; each pair's status, response
    headers and trailers, gRPC status, body and WebSocket messages are compared (docs/replay.md).
    A gRPC call's request and response messages are compared one by one as JSON, with its status details;
    JSON Pointers (and --ignore-path) are within each message: --ignore-path /updatedAt ignores it in every message.

    options:
      --json                 machine-readable output (shape in docs/replay.md)
      --ignore-header NAME   do not compare this response header or trailer (repeatable); Date, Server,
                             Content-Length, ETag, Age, X-Request-Id, Sec-WebSocket-Accept
                             and Set-Cookie values are never compared
      --ignore-path POINTER  do not compare this JSON location (repeatable), e.g. /meta/requestId;
                             `*` matches any one member or index: /items/*/updatedAt
      --slower-than X        report pairs whose B took more than X times as long as A (e.g. 1.5)
      --filter EXPR          compare only the flows matching EXPR, on both sides (see docs/filters.md)
      --capture DIR          where sessions are stored (default ./captures, as for tapline proxy)
      --help                 this text

    schemas for gRPC calls (without one, messages are decoded raw, by field number: /1/2):
    \(ProtoSchemaSources.fileUsage)

    exit status: 0 no differences, 1 differences or unpaired flows, 2 usage error or unreadable session.
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let root: String
        let json: Bool
        let filter: FlowFilter
        var options = SessionDiffOptions()
        let references: [String]
        let schemaSources: ProtoSchemaSources?
        do {
            root = try args.value("--capture") ?? "captures"
            json = args.flag("--json")
            filter = try args.flowFilter()
            options.headers.ignoredNames.formUnion(args.values("--ignore-header").map { $0.lowercased() })
            for text in args.values("--ignore-path") {
                guard let pattern = JSONPointerPattern(text) else {
                    throw UsageError("--ignore-path takes a JSON Pointer starting with /, e.g. /meta/requestId, not \(text.debugDescription)")
                }
                options.ignoredPaths.append(pattern)
            }
            if let text = try args.value("--slower-than") {
                guard let ratio = Double(text), ratio.isFinite, ratio > 0 else {
                    throw UsageError("--slower-than takes a ratio greater than 0, e.g. 1.5, not \(text.debugDescription)")
                }
                options.slowerThan = ratio
            }
            schemaSources = try ProtoSchemaSources.optional(taking: &args)
            references = args.positionals()
            try args.finish()
            guard references.count == 2 else {
                throw UsageError("diff compares two sessions, A and B; \(references.count) given")
            }
        } catch {
            StandardError.writeLine("tapline diff: \(error)\n\n\(usage)")
            return 2
        }

        do {
            _ = try schemaSources?.files()
        } catch {
            StandardError.writeLine("tapline diff: \(error)")
            return 2
        }

        var sessions: [CapturedSession] = []
        for reference in references {
            do {
                let directory = try SessionCatalog(root: root).resolve(reference)
                sessions.append(try CapturedSession.open(directory: directory))
            } catch {
                StandardError.writeLine("tapline diff: session \(reference.debugDescription): \(error)")
                return 2
            }
        }
        SessionReaderNotes.write(sessions, prefix: "tapline diff")
        do {
            options.grpcDecoder = GRPCCallDecoder(schema: try SessionSchemaStore.decodingSchema(
                explicit: schemaSources, sessionDirectories: sessions.map(\.directory)) {
                StandardError.writeLine("tapline diff: warning: \($0)")
            })
        } catch {
            StandardError.writeLine("tapline diff: \(error)")
            return 2
        }
        let report: SessionDiffReport
        do {
            report = try SessionDiff(options: options).report(a: sessions[0].flows.filter(filter.matches),
                                                               b: sessions[1].flows.filter(filter.matches),
                                                               bReplaysA: sessions[1].metadata.sourceSession == sessions[0].id)
        } catch {
            StandardError.writeLine("tapline diff: \(error)")
            return 2
        }
        if json {
            print(DiffReportJSON.text(report, a: sessions[0], b: sessions[1]))
        } else {
            for line in DiffReportText.lines(report, a: sessions[0], b: sessions[1], style: TerminalStyle(fileDescriptor: 1)) {
                print(line)
            }
        }
        return report.isEqual ? 0 : 1
    }
}
