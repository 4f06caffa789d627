import Foundation
import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineProtobuf
import TaplineReplay

/// `tapline replay SESSION [options]`: re-sends a session's flows, records them as a
/// new session and compares each with its source (docs/replay.md, "Replay").
/// Exit codes: 0 every selected flow replayed and equal, 1 any flow differed, failed
/// or was skipped, 2 usage error or a session that cannot be found or read.
enum ReplayCommand {
    static let usage = """
    usage: tapline replay SESSION [--target URL] [--keep-host] [--map-host OLD=NEW]... [--filter EXPR] [--flow N,M]
                                  [--concurrency N] [--threads N] [--pace none|recorded] [--speed X] [--rate R]
                                  [--repeat K] [--timeout SECONDS] [--insecure] [--upstream-ca FILE] [--no-capture]
                                  [--capture DIR] [--report FILE.json] [--junit FILE.xml] [--allow-truncated]
                                  [--ignore-header NAME]... [--ignore-path POINTER]... [--slower-than X]
                                  [--proto PATH]... [--proto-path DIR]... [--descriptor-set FILE]... [--reflect URL]
                                  [--edit FLOW=FILE.json]...

    Sends the session's HTTP flows again, over the protocol they were recorded with (HTTP/2 streams that
    were concurrent on one connection go concurrently on one connection), and its WebSocket flows (the
    client's messages, each after the server message recorded before it), records the answers as a new
    session (mode "replay", each flow naming its source) and compares each with its recording as
    `tapline diff` does. SESSION: an id, a unique prefix of one, `latest`, or a session directory.

    options:
      --target URL           send every flow to http:// (HTTP/1.1), https:// (ALPN as recorded) or h2c://
                             (HTTP/2 by prior knowledge) host[:port]; Host / :authority are rewritten to it
      --keep-host            keep the recorded Host / :authority
      --map-host OLD=NEW     send flows recorded for authority OLD to NEW (repeatable)
      --filter EXPR          replay only the flows matching EXPR (see docs/filters.md)
      --flow N,M             replay only these flow ids
      --concurrency N        recorded connections replayed at once (default 1; --pace none)
      --threads N            event loop threads the connections are spread over (default 1: one loop
                             keeps --concurrency connections busy; raise it when that loop's core is
                             saturated and others are free; at most --concurrency; one with --pace
                             recorded or --rate)
      --pace none|recorded   none: each connection's flows back to back (default); recorded: at the
                             recorded start offsets
      --speed X              --pace recorded: X times as fast (default 1)
      --rate R               start at most R flows per second
      --repeat K             replay the selection K times
      --timeout SECONDS      a flow whose response has not started and whose body made no progress
                             for this long, or a WebSocket whose server sent no awaited message for
                             this long, fails as upstream-timeout (default 30)
      --insecure             do not verify upstream TLS certificates
      --upstream-ca FILE     also trust the CA certificates in FILE (PEM) for upstreams
      --no-capture           do not keep the replay session (it is compared, then removed)
      --capture DIR          where sessions are read and the replay session is written (default ./captures)
      --report FILE.json     write the result as JSON (shape in docs/replay.md)
      --junit FILE.xml       write a JUnit report, one testcase per flow
      --allow-truncated      replay flows whose bodies --max-body-capture truncated (sends what was kept)
      --ignore-header NAME, --ignore-path POINTER, --slower-than X
                             comparison rules, as for tapline diff
      --proto PATH, --proto-path DIR, --descriptor-set FILE
                             schemas the comparison decodes gRPC messages with, as for tapline diff
      --reflect URL          also ask the gRPC server at h2c:// or https://host:port for the schema of
                             the --edit calls (server reflection; --insecure, --upstream-ca, --timeout apply)
      --edit FLOW=FILE.json  send unary gRPC call FLOW with its request message replaced by the JSON in FILE
                             (proto3 JSON of the method's input type, encoded with the schema; the recorded
                             compression and framing kept); repeatable; without --flow only edited flows go
      --help                 this text

    exit status: 0 every flow matched, 1 a flow differed, failed or was skipped, 2 usage error or unreadable session.
    """

    /// What the command line asked for.
    struct Request {
        var root = "captures"
        var reference = ""
        var rules = ReplayTargetRules()
        var filter = FlowFilter.all
        var flowIDs: Set<UInt64>?
        var pacing = ReplayPacing()
        /// Event loops at most (`ReplayRunnerGroup.loopCount`).
        var threads = 1
        var timeoutSeconds = 30
        var client = HTTPClientConfiguration()
        var noCapture = false
        var reportPath: String?
        var junitPath: String?
        var allowTruncated = false
        var diff = SessionDiffOptions()
        var schemaSources: ProtoSchemaSources?
        /// `--edit FLOW=FILE.json`, in order given.
        var edits: [ReplayEditOption] = []
    }

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        var request: Request
        do {
            request = try parse(&args)
        } catch {
            StandardError.writeLine("tapline replay: \(error)\n\n\(usage)")
            return 2
        }

        if !request.edits.isEmpty {
            // The edited flows are replayed; without --flow, only they are.
            request.flowIDs = (request.flowIDs ?? []).union(request.edits.map(\.flow.rawValue))
        }
        // The source is read once, front to back, and not held: the plan keeps where each
        // flow is, and each is read again when it is sent (ReplayPlan.stream). The flows
        // `--edit` names, and with `--reflect` the first gRPC call (whose service it asks
        // for), are kept as they pass.
        let source: CapturedSession
        var plan: ReplayPlan
        let editedIDs = Set(request.edits.map(\.flow))
        var editedFlows: [FlowID: CapturedFlow] = [:]
        var firstCall: CapturedFlow?
        do {
            let directory = try SessionCatalog(root: request.root).resolve(request.reference)
            let filter = request.filter
            let flowIDs = request.flowIDs
            let wantsFirstCall = request.schemaSources?.reflection != nil
            // The plan looks at no plain request's or response's fields, nor into the
            // lines `.replayPlan` takes by their first members; a filter, an edit or
            // `--reflect` may (`--flow` selects by id).
            let detail: CapturedFlowDetail = filter.isEmpty && editedIDs.isEmpty && !wantsFirstCall ? .replayPlan : .whole
            (plan, source) = try ReplayPlan.stream(
                directory: directory, detail: detail,
                select: { flow in
                    if editedIDs.contains(flow.id) { editedFlows[flow.id] = flow }
                    if wantsFirstCall, firstCall == nil, GRPCCallDecoder.contentType(of: flow) != nil { firstCall = flow }
                    return filter.matches(flow) && (flowIDs?.contains(flow.id.rawValue) ?? true)
                },
                rules: request.rules, allowTruncated: request.allowTruncated)
        } catch {
            StandardError.writeLine("tapline replay: session \(request.reference.debugDescription): \(error)")
            return 2
        }
        SessionReaderNotes.write([source], prefix: "tapline replay")
        do {
            let schema = try loadSchema(request, serviceCall: editedFlows.values.min { $0.id < $1.id } ?? firstCall)
            request.diff.grpcDecoder = GRPCCallDecoder(schema: schema)
            plan.replacementBodies = try editedRequestBodies(request.edits, flows: editedFlows, schema: schema)
        } catch {
            StandardError.writeLine("tapline replay: \(error)")
            return 2
        }
        for note in plan.notes { StandardError.writeLine("tapline replay: \(note)") }
        if !source.isClosed {
            StandardError.writeLine("tapline replay: session \(source.id) was not closed (its proxy was killed or is still running): "
                                    + "replaying its \(plan.itemCount) complete flows; \(plan.skipped.count) skipped")
        }

        let temporaryRoot = request.noCapture ? NSTemporaryDirectory() + "tapline-replay-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" : nil
        defer { if let temporaryRoot { try? FileManager.default.removeItem(atPath: temporaryRoot) } }
        let writer: CaptureWriter
        do {
            writer = try CaptureWriter(root: temporaryRoot ?? request.root, options: CaptureOptions(
                maxBodyBytes: nil, proxyDescription: describe(request), taplineVersion: TaplineVersion.string,
                highWatermark: 4 << 20, lowWatermark: 1 << 20, mode: "replay", sourceSession: source.id))
        } catch {
            StandardError.writeLine("tapline replay: \(error)")
            return 2
        }

        let result: ReplayResult
        do {
            result = try send(plan, request: request, recorder: writer, sessionDirectory: writer.directory)
        } catch {
            writer.close()
            StandardError.writeLine("tapline replay: \(error)")
            return 2
        }
        writer.close()
        if let failure = writer.writeFailure {
            StandardError.writeLine("tapline replay: the replay session is incomplete: \(failure)")
        }
        let keptID = request.noCapture ? nil : writer.sessionID
        for line in ReplaySummaryText.lines(result, source: source, replaySessionID: keptID, style: TerminalStyle(fileDescriptor: 1)) {
            print(line)
        }
        do {
            if let path = request.reportPath {
                try OutputFile.write(to: path, makeParent: true) { append throws(ExportError) in
                    try ReplayReportJSON.write(result, source: source, replaySessionID: keptID, to: append)
                }
            }
            if let path = request.junitPath {
                try OutputFile.write(to: path, makeParent: true) { append throws(ExportError) in
                    try ReplayJUnitXML.write(result, source: source, to: append)
                }
            }
        } catch {
            StandardError.writeLine("tapline replay: \(error)")
            return 2
        }
        return result.allMatched ? 0 : 1
    }

    /// The options, or the error that says what to give instead (a `UsageError` or `ReplayUsageError`).
    private static func parse(_ args: inout CommandArguments) throws -> Request {
        var request = Request()
        request.root = try args.value("--capture") ?? "captures"
        if let target = try args.value("--target") { request.rules.target = try ReplayTarget(url: target) }
        request.rules.keepHost = args.flag("--keep-host")
        for mapping in args.values("--map-host") { try request.rules.addHostMapping(mapping) }
        request.filter = try args.flowFilter()
        if let list = try args.value("--flow") {
            let ids = list.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard !ids.isEmpty, ids.allSatisfy({ $0 != nil }) else {
                throw ReplayUsageError("--flow takes flow ids separated by commas, e.g. 3,7; not \(list.debugDescription)")
            }
            request.flowIDs = Set(ids.compactMap { $0 })
        }
        let paceText = try args.value("--pace") ?? "none"
        guard let pace = ReplayPace(rawValue: paceText) else {
            throw ReplayUsageError("--pace takes none or recorded, not \(paceText.debugDescription)")
        }
        let speed = try positiveNumber(args.value("--speed"), option: "--speed") ?? 1
        let rate = try positiveNumber(args.value("--rate"), option: "--rate")
        let repeatCount = try args.integer("--repeat", range: 1...1_000_000) ?? 1
        let concurrency = try args.integer("--concurrency", range: 1...10_000) ?? 1
        request.pacing = ReplayPacing(pace: pace, speed: speed, flowsPerSecond: rate, repeatCount: repeatCount,
                                      concurrency: concurrency)
        request.threads = try args.integer("--threads", range: 1...256) ?? 1
        request.timeoutSeconds = try args.integer("--timeout", range: 1...86_400) ?? 30
        request.client.verifyCertificates = !args.flag("--insecure")
        if let file = try args.value("--upstream-ca") {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ReplayUsageError("--upstream-ca: cannot read \(file)")
            }
            request.client.additionalTrustFile = file
        }
        request.noCapture = args.flag("--no-capture")
        request.reportPath = try args.value("--report")
        request.junitPath = try args.value("--junit")
        request.allowTruncated = args.flag("--allow-truncated")
        request.diff.headers.ignoredNames.formUnion(args.values("--ignore-header").map { $0.lowercased() })
        for text in args.values("--ignore-path") {
            guard let pattern = JSONPointerPattern(text) else {
                throw ReplayUsageError("--ignore-path takes a JSON Pointer starting with /, e.g. /meta/requestId, not \(text.debugDescription)")
            }
            request.diff.ignoredPaths.append(pattern)
        }
        request.diff.slowerThan = try positiveNumber(args.value("--slower-than"), option: "--slower-than")
        let reflection = try args.value("--reflect").map { url throws(UsageError) in
            try ProtoReflectionOptions(url: url, client: request.client, timeoutSeconds: request.timeoutSeconds)
        }
        request.schemaSources = try ProtoSchemaSources.optional(taking: &args, reflection: reflection)
        request.edits = try args.values("--edit").map(ReplayEditOption.init)
        let references = args.positionals()
        try args.finish()
        guard references.count == 1 else {
            throw ReplayUsageError("replay takes one session; \(references.count) given")
        }
        request.reference = references[0]
        return request
    }

    private static func positiveNumber(_ text: String?, option: String) throws(ReplayUsageError) -> Double? {
        guard let text else { return nil }
        guard let value = Double(text), value.isFinite, value > 0 else {
            throw ReplayUsageError("\(option) takes a number greater than 0, e.g. 2, not \(text.debugDescription)")
        }
        return value
    }

    /// What session.json records of how the replay was started.
    private static func describe(_ request: Request) -> [String: String] {
        var description = ["mode": "replay", "pace": request.pacing.pace.rawValue,
                           "concurrency": String(request.pacing.concurrency)]
        if let target = request.rules.target {
            description["target"] = (target.priorKnowledgeHTTP2 ? "h2c://" + target.upstream.authority : target.upstream.description)
        }
        if request.pacing.repeatCount > 1 { description["repeat"] = String(request.pacing.repeatCount) }
        return description
    }

    /// Runs the replay on an event loop of its own; returns what it found once every flow is
    /// finished and the notes on flows sent otherwise than recorded (`ReplayRunner.notes`) are written.
    private static func send(_ plan: ReplayPlan, request: Request, recorder: any FlowRecorder,
                             sessionDirectory: String) throws(NetError) -> ReplayResult {
        let threads = ReplayRunnerGroup.loopCount(threads: request.threads, plan: plan, pacing: request.pacing)
        let group = try EventLoopGroup(threads: threads)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let progressLine = ReplayProgressLine(enabled: isatty(2) == 1)
        let runners = ReplayRunnerGroup(plan: plan, pacing: request.pacing, loops: group.loops,
                                        connector: { UpstreamConnector(loop: $0, configuration: request.client) },
                                        recorder: recorder, sessionDirectory: sessionDirectory,
                                        diff: SessionDiff(options: request.diff),
                                        keepsEqualOutcomes: request.reportPath != nil || request.junitPath != nil,
                                        responseTimeoutMilliseconds: request.timeoutSeconds * 1_000,
                                        onProgress: progressLine.update)
        let done = DispatchSemaphore(value: 0)
        runners.start { done.signal() }
        done.wait()
        let finished = LoopBound(progressLine, loop: loop)
        let lineDone = DispatchSemaphore(value: 0)
        loop.execute {
            finished.value.finish()
            for note in runners.notes { StandardError.writeLine("tapline replay: \(note)") }
            lineDone.signal()
        }
        lineDone.wait()
        return runners.result(skipped: plan.skipped)
    }
}
