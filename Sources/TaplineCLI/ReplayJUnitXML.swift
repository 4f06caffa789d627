import TaplineCapture
import TaplineReplay

/// `tapline replay --junit FILE.xml`: one `<testsuite>` named after the source
/// session, one `<testcase>` per replayed flow (`flow 3 GET http://...`, its
/// replayed time in seconds): a differing flow has a `<failure>` listing its
/// differences as `tapline diff` prints them, a failed one an `<error>` with its
/// error, a skipped one `<skipped>` with the reason. Pure.
///
/// Written in pieces (`write`), a test case at a time, so a report of a large replay
/// is never whole in memory.
enum ReplayJUnitXML {
    static func text(_ result: ReplayResult, source: CapturedSession) -> String {
        var bytes: [UInt8] = []
        write(result, source: source) { bytes += $0 }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Hands the document to `append` in pieces of about `ReplayReportJSON.pieceBytes`, in order.
    static func write<Failure: Error>(_ result: ReplayResult, source: CapturedSession,
                                      to append: ([UInt8]) throws(Failure) -> Void) throws(Failure) {
        var piece: [UInt8] = []
        func line(_ text: String) throws(Failure) {
            piece += text.utf8
            piece.append(0x0A)
            if piece.count >= ReplayReportJSON.pieceBytes {
                try append(piece)
                piece.removeAll(keepingCapacity: true)
            }
        }
        try line("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        try line("<testsuites>")
        try line("  <testsuite name=\(attribute("tapline replay " + source.id)) tests=\"\(result.outcomes.count + result.skipped.count)\" failures=\"\(result.differentCount)\" errors=\"\(result.failedCount)\" skipped=\"\(result.skipped.count)\">")
        let plain = TerminalStyle(enabled: false)
        for outcome in result.outcomes {
            let seconds = (outcome.replayedMilliseconds ?? 0) / 1_000
            let name = "flow \(outcome.sourceID) \(outcome.method) \(outcome.url)"
            var element = "    <testcase classname=\(attribute("tapline.replay." + source.id)) name=\(attribute(name)) time=\"\(String(format: "%.3f", seconds))\""
            let details = outcome.differences.flatMap { DiffReportText.describe($0, style: plain) }.joined(separator: "\n")
            switch outcome.verdict {
            case .equal:
                element += "/>"
            case .different:
                element += ">\n      <failure message=\(attribute("\(outcome.differenceCount) difference\(outcome.differenceCount == 1 ? "" : "s")")) type=\"different\">\(escaped(details))</failure>\n    </testcase>"
            case .failed:
                let error = outcome.error.map { "\($0.kind): \($0.message)" } ?? "the flow did not finish"
                element += ">\n      <error message=\(attribute(error)) type=\"failed\">\(escaped(details))</error>\n    </testcase>"
            }
            try line(element)
        }
        for skipped in result.skipped {
            try line("    <testcase classname=\(attribute("tapline.replay." + source.id)) name=\(attribute(name(skipped.source))) time=\"0\">\n      <skipped message=\(attribute(skipped.reason.description))/>\n    </testcase>")
        }
        try line("  </testsuite>")
        try line("</testsuites>")
        try append(piece)
    }

    private static func name(_ flow: CapturedFlow) -> String {
        "flow \(flow.id) \(flow.request?.method ?? flow.kind.rawValue) \(flow.url)"
    }

    /// `"text"` with the characters XML reserves escaped.
    private static func attribute(_ text: String) -> String {
        "\"" + escaped(text) + "\""
    }

    /// Text with `& < > " '` escaped and the control characters XML 1.0 cannot carry dropped.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
