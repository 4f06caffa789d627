import Foundation
import Glibc
import TaplineCapture
import TaplineExport
import TaplineProtobuf

/// `tapline export SESSION... (--postman FILE | --har FILE | --curl | --grpcurl)`: turns
/// capture sessions into a Postman Collection v2.1, a HAR 1.2 file, curl commands or
/// grpcurl commands for gRPC calls (docs/export.md, docs/grpc.md). Reader warnings go to stderr.
/// Exit codes: 0 written, 1 session unreadable / nothing to export / write failed, 2 usage error.
enum ExportCommand {
    static let usage = """
    usage: tapline export SESSION [SESSION...] --postman FILE [--filter EXPR] [--group-by host|path|none]
                          [--keep-secrets] [--redact NAME]... [--include-static] [--no-binary] [--name NAME]
           tapline export SESSION --har FILE [--filter EXPR]
           tapline export SESSION --curl [--flow N] [--filter EXPR]
           tapline export SESSION --grpcurl [--flow N] [--filter EXPR] [--proto PATH... | --descriptor-set FILE...]

    SESSION is a session id, a unique prefix of one, `latest`, or a session directory.
    FILE may be - for stdout.

    options:
      --postman FILE     write a Postman Collection v2.1: one request per endpoint, with examples
      --har FILE         write a HAR 1.2 file of every selected flow (one session)
      --curl             print each selected request as a curl command (--flow N: just that one)
      --grpcurl          print each selected gRPC call as a grpcurl command (--flow N: just that one)
      --filter EXPR      only flows matching EXPR (see docs/filters.md), e.g. 'host:api.* !status:4xx'
      --group-by HOW     Postman folders: host (host, then first path segment; default), path, none
      --keep-secrets     do not redact credentials, cookies, API keys and token fields
      --redact NAME      also redact headers, query parameters and body fields named NAME (repeatable)
      --include-static   keep images, fonts, CSS and JavaScript in the collection
      --no-binary        leave binary request bodies out (default: written to FILE's .files/ folder)
      --name NAME        the collection's name
      --capture DIR      where sessions are stored (default ./captures)
      --help             this text

    schemas for gRPC calls (the messages' JSON; without one, raw by field number):
    \(ProtoSchemaSources.fileUsage)
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let root: String
        let postman: String?
        let har: String?
        let curl: Bool
        let grpcurl: Bool
        let schemaSources: ProtoSchemaSources?
        let flowNumber: Int?
        let filter: FlowFilter
        var options = PostmanExportOptions()
        let references: [String]
        do {
            root = try args.value("--capture") ?? "captures"
            postman = try args.value("--postman")
            har = try args.value("--har")
            curl = args.flag("--curl")
            grpcurl = args.flag("--grpcurl")
            schemaSources = try ProtoSchemaSources.optional(taking: &args)
            flowNumber = try args.integer("--flow", range: 1...Int.max)
            filter = try args.flowFilter()
            if let grouping = try args.value("--group-by") {
                guard let value = PostmanGrouping(rawValue: grouping) else {
                    throw UsageError("--group-by takes host, path or none, not \(grouping.debugDescription)")
                }
                options.grouping = value
            }
            options.redact = !args.flag("--keep-secrets")
            options.rules = options.rules.adding(args.values("--redact"))
            options.includeStatic = args.flag("--include-static")
            let noBinary = args.flag("--no-binary")
            options.name = try args.value("--name")
            references = args.positionals()
            try args.finish()
            let modes = [postman != nil, har != nil, curl, grpcurl].filter { $0 }.count
            guard modes == 1 else { throw UsageError("choose one of --postman FILE, --har FILE, --curl or --grpcurl") }
            guard !references.isEmpty else { throw UsageError("which session? give an id, a prefix, latest, or a directory") }
            if har != nil || curl || grpcurl, references.count > 1 { throw UsageError("--har, --curl and --grpcurl take one session") }
            if flowNumber != nil && !curl && !grpcurl { throw UsageError("--flow goes with --curl or --grpcurl") }
            if let postman, !noBinary {
                options.binaryDirectory = postman == "-" ? nil : ((postman as NSString).lastPathComponent + ".files")
            }
        } catch {
            StandardError.writeLine("tapline export: \(error)\n\n\(usage)")
            return 2
        }

        do {
            _ = try schemaSources?.files()
        } catch {
            StandardError.writeLine("tapline export: \(error)")
            return 2
        }

        var sessions: [CapturedSession] = []
        do {
            let catalog = SessionCatalog(root: root)
            for reference in references {
                sessions.append(try CapturedSession.open(directory: try catalog.resolve(reference)))
            }
        } catch {
            StandardError.writeLine("tapline: \(error)")
            return 1
        }
        let schema: ProtoSchema?
        do {
            schema = try SessionSchemaStore.decodingSchema(explicit: schemaSources, sessionDirectories: sessions.map(\.directory)) {
                StandardError.writeLine("tapline: warning: \($0)")
            }
        } catch {
            StandardError.writeLine("tapline export: \(error)")
            return 2
        }
        SessionReaderNotes.write(sessions, prefix: "tapline")

        do throws(ExportError) {
            if let postman {
                try writePostman(sessions, filter: filter, options: options,
                                 grpcCalls: GRPCCallReader(decoder: GRPCCallDecoder(schema: schema)), to: postman)
            } else if let har {
                try writeHAR(sessions[0], filter: filter, grpcCalls: GRPCCallReader(decoder: GRPCCallDecoder(schema: schema)), to: har)
            } else if grpcurl {
                try printGRPCurl(sessions[0], filter: filter, flowNumber: flowNumber,
                                 reader: GRPCCallReader(decoder: GRPCCallDecoder(schema: schema)),
                                 schemaArguments: { service in
                                     guard let schemaSources, let schema else { return [] }
                                     return schemaSources.grpcurlArguments(service: service, schema: schema)
                                 })
            } else {
                try printCurl(sessions[0], filter: filter, flowNumber: flowNumber)
            }
        } catch {
            StandardError.writeLine("tapline: \(error)")
            return 1
        }
        return 0
    }

    private static func writePostman(_ sessions: [CapturedSession], filter: FlowFilter, options: PostmanExportOptions,
                                     grpcCalls: GRPCCallReader, to path: String) throws(ExportError) {
        let sources = sessions.map { session in (session: session.id, flows: session.flows.filter(filter.matches)) }
        var exporter = PostmanExporter(options: options)
        exporter.grpcCalls = grpcCalls
        let export = try exporter.export(sources)
        let directory = path == "-" ? "." : (path as NSString).deletingLastPathComponent
        for (name, bytes) in export.files.sorted(by: { $0.key < $1.key }) {
            let target = (directory.isEmpty ? "." : directory) + "/" + name
            try OutputFile.write(bytes, to: target, makeParent: true)
        }
        try OutputFile.write(Array(export.text.utf8), to: path, makeParent: false)
        if path != "-" {
            var summary = "tapline: wrote \(path): \(export.endpointCount) request\(export.endpointCount == 1 ? "" : "s") from \(export.flowCount) flow\(export.flowCount == 1 ? "" : "s")"
            if !export.secretVariables.isEmpty { summary += "; secrets redacted into \(export.secretVariables.count) variable\(export.secretVariables.count == 1 ? "" : "s")" }
            if !export.files.isEmpty { summary += "; \(export.files.count) binary bod\(export.files.count == 1 ? "y" : "ies") beside it" }
            StandardError.writeLine(summary)
        }
    }

    private static func writeHAR(_ session: CapturedSession, filter: FlowFilter, grpcCalls: GRPCCallReader,
                                 to path: String) throws(ExportError) {
        let flows = session.flows.filter(filter.matches)
        var exporter = HARExporter(creatorVersion: TaplineVersion.string)
        exporter.grpcCalls = grpcCalls
        let comment = "tapline capture session \(session.id)" + (filter.isEmpty ? "" : ", filter \(filter.text)")
        func reportBodiesOverLimit(_ result: HARExportResult) {
            for body in result.bodiesOverLimit {
                StandardError.writeLine("tapline: \(body) (over the \(exporter.bodyLimit >> 20) MiB HAR body limit; its comment says so)")
            }
        }
        if path == "-" {
            reportBodiesOverLimit(try exporter.write(flows, comment: comment, session: session, to: STDOUT_FILENO, path: "stdout"))
            return
        }
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        let result: HARExportResult
        do throws(ExportError) {
            result = try exporter.write(flows, comment: comment, session: session, to: descriptor, path: path)
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        let count = result.entries
        StandardError.writeLine("tapline: wrote \(path): \(count) entr\(count == 1 ? "y" : "ies")")
        reportBodiesOverLimit(result)
    }

    /// Flow N when `--flow N` was given, else the flows matching the filter.
    private static func selectedFlows(_ session: CapturedSession, filter: FlowFilter,
                                      flowNumber: Int?) throws(ExportError) -> [CapturedFlow] {
        guard let flowNumber else { return session.flows.filter(filter.matches) }
        guard let flow = session.flow(UInt64(flowNumber)) else {
            throw .capture(.flowNotFound(session: session.id, flow: UInt64(flowNumber)))
        }
        return [flow]
    }

    private static func printCurl(_ session: CapturedSession, filter: FlowFilter, flowNumber: Int?) throws(ExportError) {
        let flows = try selectedFlows(session, filter: filter, flowNumber: flowNumber)
        var printed = 0
        for flow in flows {
            let command: String?
            do throws(CaptureError) {
                command = try CurlCommand.make(flow)
            } catch {
                throw .capture(error)
            }
            guard let command else { continue }
            if flowNumber == nil { print("# flow \(flow.id)") }
            print(command)
            printed += 1
        }
        if printed == 0 { throw .nothingToExport("no selected flow has an HTTP request") }
    }

    private static func printGRPCurl(_ session: CapturedSession, filter: FlowFilter, flowNumber: Int?, reader: GRPCCallReader,
                                     schemaArguments: (String) -> [String]) throws(ExportError) {
        let flows = try selectedFlows(session, filter: filter, flowNumber: flowNumber)
        var printed = 0
        for flow in flows {
            let call: GRPCCallView?
            do throws(CaptureError) {
                call = try reader.view(of: flow)
            } catch {
                throw .capture(error)
            }
            guard let call else { continue }
            print("# flow \(flow.id): \(call.fullMethod) (\(call.kindText))" + (call.status.map { ", answered \($0.name)" } ?? ""))
            print(GRPCurlCommand.make(call, flow: flow, schemaArguments: schemaArguments(call.service)))
            printed += 1
        }
        if printed == 0 { throw .nothingToExport(flowNumber == nil ? "no selected flow is a gRPC call" : "flow \(flowNumber ?? 0) is not a gRPC call") }
    }
}
