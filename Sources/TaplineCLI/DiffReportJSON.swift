import TaplineCapture
import TaplineExport
import TaplineReplay
import TaplineWire

/// `tapline diff --json`: the report as one JSON document, keys in a fixed
/// order (shape in docs/replay.md, "Diff"). JSON values from the bodies are
/// embedded as they were parsed, so numbers keep their exact text. Pure.
enum DiffReportJSON {
    static func text(_ report: SessionDiffReport, a: CapturedSession, b: CapturedSession) -> String {
        let equal = report.comparisons.count - report.differentCount
        let document = JSONValue.object([
            JSONMember("equal", .bool(report.isEqual)),
            JSONMember("a", session(a)),
            JSONMember("b", session(b)),
            JSONMember("summary", .object([
                JSONMember("paired", .integer(report.comparisons.count)),
                JSONMember("equal", .integer(equal)),
                JSONMember("different", .integer(report.differentCount)),
                JSONMember("onlyInA", .integer(report.unpairedA.count)),
                JSONMember("onlyInB", .integer(report.unpairedB.count)),
            ])),
            JSONMember("flows", .array(report.comparisons.map(comparison))),
            JSONMember("onlyInA", .array(report.unpairedA.map(flowReference))),
            JSONMember("onlyInB", .array(report.unpairedB.map(flowReference))),
        ])
        return JSONWriter.text(document)
    }

    private static func session(_ session: CapturedSession) -> JSONValue {
        .object([JSONMember("session", .string(session.id)), JSONMember("directory", .string(session.directory))])
    }

    private static func flowReference(_ flow: CapturedFlow) -> JSONValue {
        .object([JSONMember("flow", .integer(flow.id.rawValue)), JSONMember("method", optional(flow.request?.method)),
                 JSONMember("url", .string(flow.url))])
    }

    private static func comparison(_ comparison: FlowComparison) -> JSONValue {
        .object([
            JSONMember("a", .integer(comparison.a.id.rawValue)),
            JSONMember("b", .integer(comparison.b.id.rawValue)),
            JSONMember("method", optional(comparison.a.request?.method)),
            JSONMember("url", .string(comparison.a.url)),
            JSONMember("equal", .bool(comparison.isEqual)),
            JSONMember("differences", .array(comparison.differences.map(difference))),
        ])
    }

    static func difference(_ difference: FlowDifference) -> JSONValue {
        switch difference {
        case .outcome(let a, let b):
            return .object([JSONMember("kind", .string("outcome")), JSONMember("a", optional(a)), JSONMember("b", optional(b))])
        case .status(let a, let b):
            return .object([JSONMember("kind", .string("status")), JSONMember("a", a.map { .integer($0) } ?? .null),
                            JSONMember("b", b.map { .integer($0) } ?? .null)])
        case .header(let field):
            return .object([JSONMember("kind", .string("header"))] + fieldMembers(field))
        case .trailer(let field):
            return .object([JSONMember("kind", .string("trailer"))] + fieldMembers(field))
        case .grpcStatus(let a, let b):
            return .object([JSONMember("kind", .string("grpcStatus")), JSONMember("a", grpc(a)), JSONMember("b", grpc(b))])
        case .body(let body):
            return .object([JSONMember("kind", .string("body"))] + bodyMembers(body))
        case .message(let message):
            var members = [JSONMember("kind", .string("message")),
                           JSONMember("from", .string(message.fromClient ? "client" : "server")),
                           JSONMember("index", .integer(message.index))]
            switch message.change {
            case .missing(let type, let size):
                members += [JSONMember("change", .string("missing")), JSONMember("type", .string(type)),
                            JSONMember("size", .integer(size))]
            case .extra(let type, let size):
                members += [JSONMember("change", .string("extra")), JSONMember("type", .string(type)),
                            JSONMember("size", .integer(size))]
            case .type(let a, let b):
                members += [JSONMember("change", .string("type")), JSONMember("a", .string(a)), JSONMember("b", .string(b))]
            case .payload(let body):
                members += [JSONMember("change", .string("payload"))] + bodyMembers(body)
            }
            return .object(members)
        case .grpcMessage(let message):
            var members = [JSONMember("kind", .string("grpcMessage")),
                           JSONMember("direction", .string(message.direction.rawValue)),
                           JSONMember("index", .integer(message.index))]
            switch message.change {
            case .missing(let size):
                members += [JSONMember("change", .string("missing")), JSONMember("size", .integer(size))]
            case .extra(let size):
                members += [JSONMember("change", .string("extra")), JSONMember("size", .integer(size))]
            case .json(let changes):
                members += [JSONMember("change", .string("payload"))] + bodyMembers(.json(changes))
            case .notCompared(let a, let b):
                members += [JSONMember("change", .string("notCompared")), JSONMember("a", .string(a)), JSONMember("b", .string(b))]
            }
            return .object(members)
        case .grpcStatusDetails(let changes):
            return .object([JSONMember("kind", .string("grpcStatusDetails"))] + bodyMembers(.json(changes)))
        case .slower(let a, let b):
            return .object([JSONMember("kind", .string("slower")), JSONMember("aMilliseconds", .milliseconds(a)),
                            JSONMember("bMilliseconds", .milliseconds(b))])
        }
    }

    private static func fieldMembers(_ field: FieldDifference) -> [JSONMember] {
        [JSONMember("name", .string(field.name)), JSONMember("removed", .array(field.removed.map(JSONValue.string))),
         JSONMember("added", .array(field.added.map(JSONValue.string)))]
    }

    private static func bodyMembers(_ body: BodyDifference) -> [JSONMember] {
        switch body {
        case .json(let changes):
            return [JSONMember("format", .string("json")), JSONMember("changes", .array(changes.map { change in
                var members = [JSONMember("path", .string(change.pointer.text)), JSONMember("change", .string(change.kind.rawValue))]
                if let a = change.a { members.append(JSONMember("a", a)) }
                if let b = change.b { members.append(JSONMember("b", b)) }
                return .object(members)
            }))]
        case .form(let fields):
            return [JSONMember("format", .string("form")), JSONMember("parameters", .array(fields.map { .object(fieldMembers($0)) }))]
        case .text(let diff):
            return [JSONMember("format", .string("text")), JSONMember("diff", .array(diff.lines.map(JSONValue.string))),
                    JSONMember("omittedLines", .integer(diff.omittedLines))]
        case .binary(let a, let b):
            return [JSONMember("format", .string("binary")), JSONMember("a", fingerprint(a)), JSONMember("b", fingerprint(b))]
        case .incomplete(let comparison):
            return [JSONMember("format", .string("incomplete")),
                    JSONMember("aReason", optional(comparison.aReason)), JSONMember("bReason", optional(comparison.bReason)),
                    JSONMember("comparedBytes", .integer(comparison.comparedBytes)),
                    JSONMember("firstDifference", comparison.firstDifference.map { .integer($0) } ?? .null)]
        }
    }

    private static func fingerprint(_ fingerprint: BodyFingerprint) -> JSONValue {
        .object([JSONMember("size", .integer(fingerprint.size)), JSONMember("sha256", .string(fingerprint.sha256))])
    }

    private static func grpc(_ status: GRPCStatus?) -> JSONValue {
        guard let status else { return .null }
        return .object([JSONMember("code", .integer(status.code)), JSONMember("name", .string(status.name)),
                        JSONMember("message", .string(status.message))])
    }

    private static func optional(_ text: String?) -> JSONValue {
        text.map(JSONValue.string) ?? .null
    }
}
