import Foundation
import TaplineCapture
import TaplineExport
import TaplineProtobuf

/// `tapline show SESSION [--flow N] [--body request|response] [--json]`:
/// a session's flows one per line, one flow in full, or one body's raw bytes
/// streamed to stdout. gRPC calls are shown as calls (`GRPCCallView`), their messages
/// decoded with the schema options when given, else raw. Reader warnings go to stderr.
/// Exit codes: 0 shown, 1 session/flow not found or unreadable, 2 usage error or a
/// schema that does not load.
enum ShowCommand {
    static let usage = """
    usage: tapline show SESSION [--flow N] [--body request|response] [--filter EXPR] [--json] [--capture DIR]
                        [--proto PATH... [--proto-path DIR...]] [--descriptor-set FILE...]

    SESSION is a session id, a unique prefix of one, `latest`, or a session directory.

    options:
      --flow N        show flow N in full: connection, upstream, timings, heads, bodies, error
      --body WHICH    with --flow: write the captured request or response body to stdout, raw
      --filter EXPR   list only the flows matching EXPR (see docs/filters.md), e.g. 'status:4xx,5xx'
      --json          machine-readable output
      --capture DIR   where sessions are stored (default ./captures, as for tapline proxy)
      --help          this text

    schemas for gRPC calls (without one, messages are decoded raw, by field number):
    \(ProtoSchemaSources.fileUsage)
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let root: String
        let json: Bool
        let flowNumber: Int?
        let bodyDirection: BodyDirection?
        let reference: String
        let filter: FlowFilter
        let schemaSources: ProtoSchemaSources?
        do {
            schemaSources = try ProtoSchemaSources.optional(taking: &args)
            root = try args.value("--capture") ?? "captures"
            json = args.flag("--json")
            filter = try args.flowFilter()
            flowNumber = try args.integer("--flow", range: 1...Int.max)
            if let text = try args.value("--body") {
                guard let direction = BodyDirection(rawValue: text) else {
                    throw UsageError("--body takes request or response, not \(text.debugDescription)")
                }
                bodyDirection = direction
            } else {
                bodyDirection = nil
            }
            let positionals = args.positionals()
            try args.finish()
            guard positionals.count == 1 else {
                throw UsageError(positionals.isEmpty ? "which session? give an id, a prefix, latest, or a directory"
                                                     : "one session at a time, not \(positionals.count)")
            }
            reference = positionals[0]
            if bodyDirection != nil && flowNumber == nil { throw UsageError("--body needs --flow N") }
            if bodyDirection != nil && json { throw UsageError("--body writes raw bytes; it cannot be combined with --json") }
        } catch {
            StandardError.writeLine("tapline show: \(error)\n\n\(usage)")
            return 2
        }

        if let schemaSources {
            // A bad --proto is a usage error whatever the session.
            do {
                _ = try schemaSources.files()
            } catch {
                StandardError.writeLine("tapline show: \(error)")
                return 2
            }
        }
        let session: CapturedSession
        do {
            let directory = try SessionCatalog(root: root).resolve(reference)
            session = try CapturedSession.open(directory: directory)
        } catch {
            StandardError.writeLine("tapline: \(error)")
            return 1
        }
        let schema: ProtoSchema?
        do {
            schema = try SessionSchemaStore.decodingSchema(explicit: schemaSources, sessionDirectories: [session.directory]) {
                StandardError.writeLine("tapline: warning: \($0)")
            }
        } catch {
            StandardError.writeLine("tapline show: \(error)")
            return 2
        }
        let calls = GRPCCallReader(decoder: GRPCCallDecoder(schema: schema))
        if session.isBeingWritten { StandardError.writeLine("tapline: \(ShowText.beingWrittenNote(session))") }
        for warning in session.warnings { StandardError.writeLine("tapline: warning: \(warning)") }
        let style = TerminalStyle(fileDescriptor: 1)

        guard let flowNumber else {
            let flows = session.flows.filter(filter.matches)
            var views: [UInt64: GRPCCallView] = [:]
            for flow in flows {
                if let view = callView(flow, calls) { views[flow.id.rawValue] = view }
            }
            if json {
                print(ShowFlowList.json(session, flows: flows, calls: views))
            } else if flows.isEmpty {
                StandardError.writeLine("tapline: session \(session.id) has no flows" + (filter.isEmpty ? "" : " matching \(filter.text.debugDescription)"))
            } else {
                for line in ShowFlowList.lines(session, style: style, flows: flows, calls: views) { print(line) }
            }
            return 0
        }
        guard let flow = session.flow(UInt64(flowNumber)) else {
            StandardError.writeLine("tapline: \(CaptureError.flowNotFound(session: session.id, flow: UInt64(flowNumber)))")
            return 1
        }
        if let bodyDirection {
            let body = flow.body(bodyDirection)
            if body.truncated {
                StandardError.writeLine("tapline: warning: the capture kept only \(body.capturedBytes) of \(body.bodyBytes) bytes of this body (--max-body-capture)")
            }
            fflush(nil)  // anything print() buffered goes out before the raw bytes
            do {
                try body.write(to: STDOUT_FILENO)
            } catch {
                StandardError.writeLine("tapline: \(error)")
                return 1
            }
            return 0
        }
        let call = callView(flow, calls)
        if json {
            print(ShowFlowJSON.text(flow, call: call))
        } else {
            for line in ShowFlowDetail.lines(flow, session: session, style: style, call: call) { print(line) }
        }
        return 0
    }

    /// The flow's gRPC call view; nil for other flows, and (with a warning) when its bodies cannot be read.
    private static func callView(_ flow: CapturedFlow, _ reader: GRPCCallReader) -> GRPCCallView? {
        do {
            return try reader.view(of: flow)
        } catch {
            StandardError.writeLine("tapline: warning: flow \(flow.id): gRPC messages not shown: \(error)")
            return nil
        }
    }
}
