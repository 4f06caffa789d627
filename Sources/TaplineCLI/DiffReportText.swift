import Foundation
import TaplineCapture
import TaplineExport
import TaplineReplay
import TaplineWire

/// `tapline diff`'s human output: one block per paired flow that differs (a
/// heading, then one line per difference), the unpaired flows of each side, and
/// a summary line. Equal pairs are only counted. Pure.
enum DiffReportText {
    /// Longest JSON value or header value shown on one line.
    static let valueLimit = 200

    static func lines(_ report: SessionDiffReport, a: CapturedSession, b: CapturedSession, style: TerminalStyle) -> [String] {
        var lines = ["A: session \(a.id)   B: session \(b.id)"]
        for comparison in report.comparisons where !comparison.isEqual {
            lines.append(style.bold("flow \(comparison.a.id) <> \(comparison.b.id)  \(request(comparison.a))"))
            lines += comparison.differences.flatMap { describe($0, style: style) }.map { "  " + $0 }
        }
        for flow in report.unpairedA { lines.append(style.red("only in A: flow \(flow.id)  \(request(flow))")) }
        for flow in report.unpairedB { lines.append(style.green("only in B: flow \(flow.id)  \(request(flow))")) }
        let equal = report.comparisons.count - report.differentCount
        let summary = "\(report.comparisons.count) paired: \(equal) equal, \(report.differentCount) different; "
            + "\(report.unpairedA.count) only in A, \(report.unpairedB.count) only in B"
        lines.append(report.isEqual ? style.green("no differences: " + summary) : style.yellow("differences: " + summary))
        return lines
    }

    private static func request(_ flow: CapturedFlow) -> String {
        "\(flow.request?.method ?? flow.kind.rawValue) \(flow.url)"
    }

    static func describe(_ difference: FlowDifference, style: TerminalStyle) -> [String] {
        switch difference {
        case .outcome(let a, let b):
            return ["outcome: \(a ?? "complete") -> \(b ?? "complete")"]
        case .status(let a, let b):
            return ["status: \(a.map(String.init) ?? "none") -> \(b.map(String.init) ?? "none")"]
        case .header(let field):
            return [fieldLine("header", field, style: style)]
        case .trailer(let field):
            return [fieldLine("trailer", field, style: style)]
        case .grpcStatus(let a, let b):
            return ["grpc-status: \(grpc(a)) -> \(grpc(b))"]
        case .body(let body):
            return describe(body, prefix: "body", style: style)
        case .message(let message):
            let prefix = "\(message.fromClient ? "client" : "server") message \(message.index + 1)"
            switch message.change {
            case .missing(let type, let size): return [style.red("\(prefix): only in A (\(type), \(size) bytes)")]
            case .extra(let type, let size): return [style.green("\(prefix): only in B (\(type), \(size) bytes)")]
            case .type(let a, let b): return ["\(prefix): \(a) -> \(b)"]
            case .payload(let body): return describe(body, prefix: prefix, style: style)
            }
        case .grpcMessage(let message):
            let prefix = "\(message.direction.rawValue) message \(message.index)"
            switch message.change {
            case .missing(let size): return [style.red("\(prefix): only in A (\(size) bytes)")]
            case .extra(let size): return [style.green("\(prefix): only in B (\(size) bytes)")]
            case .json(let changes): return describe(.json(changes), prefix: prefix, style: style)
            case .notCompared(let a, let b): return [style.yellow("\(prefix): \(a) -> \(b)")]
            }
        case .grpcStatusDetails(let changes):
            return describe(.json(changes), prefix: "grpc-status-details", style: style)
        case .slower(let a, let b):
            return [style.yellow("slower: \(milliseconds(a)) -> \(milliseconds(b)) (\(ratio(a, b))x)")]
        }
    }

    private static func describe(_ body: BodyDifference, prefix: String, style: TerminalStyle) -> [String] {
        switch body {
        case .json(let changes):
            return changes.map { change in
                let at = change.pointer.text.isEmpty ? "(document)" : change.pointer.text
                switch change.kind {
                case .changed: return "\(prefix) \(at): \(value(change.a)) -> \(value(change.b))"
                case .added: return style.green("\(prefix) \(at): added \(value(change.b))")
                case .removed: return style.red("\(prefix) \(at): removed \(value(change.a))")
                }
            }
        case .form(let fields):
            return fields.map { fieldLine("\(prefix) parameter", $0, style: style) }
        case .text(let diff):
            var lines = ["\(prefix) (text):"]
            lines += diff.lines.map { line in
                let indented = "  " + line
                if line.hasPrefix("-") { return style.red(indented) }
                if line.hasPrefix("+") { return style.green(indented) }
                if line.hasPrefix("@@") { return style.cyan(indented) }
                return indented
            }
            if diff.omittedLines > 0 { lines.append("  ... \(diff.omittedLines) more diff lines") }
            return lines
        case .binary(let a, let b):
            return ["\(prefix) (binary): \(a.size) bytes sha256 \(a.sha256) -> \(b.size) bytes sha256 \(b.sha256)"]
        case .incomplete(let comparison):
            var reasons: [String] = []
            if let reason = comparison.aReason { reasons.append("A: \(reason)") }
            if let reason = comparison.bReason { reasons.append("B: \(reason)") }
            let verdict = comparison.firstDifference.map { "they differ at byte \($0)" }
                ?? "the first \(comparison.comparedBytes) bytes are equal"
            return [style.yellow("\(prefix) not compared whole (\(reasons.joined(separator: "; "))); \(verdict)")]
        }
    }

    private static func fieldLine(_ what: String, _ field: FieldDifference, style: TerminalStyle) -> String {
        if field.removed.isEmpty {
            return style.green("\(what) \(field.name): added \(quoted(field.added))")
        }
        if field.added.isEmpty {
            return style.red("\(what) \(field.name): removed \(quoted(field.removed))")
        }
        return "\(what) \(field.name): \(quoted(field.removed)) -> \(quoted(field.added))"
    }

    private static func quoted(_ values: [String]) -> String {
        values.map { clipped($0.debugDescription) }.joined(separator: ", ")
    }

    private static func value(_ json: JSONValue?) -> String {
        clipped(json.map { JSONWriter.text($0, indent: nil) } ?? "none")
    }

    private static func clipped(_ text: String) -> String {
        text.count <= valueLimit ? text : String(text.prefix(valueLimit)) + "..."
    }

    private static func grpc(_ status: GRPCStatus?) -> String {
        guard let status else { return "none" }
        return "\(status.code) \(status.name)" + (status.message.isEmpty ? "" : " \(status.message.debugDescription)")
    }

    private static func milliseconds(_ value: Double) -> String {
        String(format: "%.1f ms", value)
    }

    private static func ratio(_ a: Double, _ b: Double) -> String {
        a > 0 ? String(format: "%.2f", b / a) : "inf"
    }
}
