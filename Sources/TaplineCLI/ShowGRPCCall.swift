import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineWire

/// `tapline show SESSION --flow N` for a gRPC call: the call section (method, kind,
/// types, metadata), each message as JSON with its direction and time, trailers and
/// the status with its details; and the list row's text. Pure: returns text.
enum ShowGRPCCall {
    /// The URL column of the flow list: `pkg.Svc/Method unary →1 ←1`.
    static func listText(_ call: GRPCCallView) -> String {
        "\(call.fullMethod) \(call.kindText) →\(call.messageCount(.request)) ←\(call.messageCount(.response))"
    }

    /// The METHOD column: `gRPC` or `gRPC-Web`.
    static func protocolLabel(_ call: GRPCCallView) -> String {
        call.contentType.framing == .grpc ? "gRPC" : "gRPC-Web"
    }

    /// The STATUS column: the HTTP status and the gRPC status name (`200 OK`, `200 NOT_FOUND`),
    /// or what `FlowSummaryText.status` says while there is no gRPC status (or the flow failed).
    static func statusText(_ call: GRPCCallView, flow: CapturedFlow) -> String {
        guard let status = call.status, let http = flow.clientStatus, flow.error == nil else { return FlowSummaryText.status(flow) }
        return "\(http) \(status.name)"
    }

    /// The detail sections, each line indented as `ShowFlowDetail` does; times relative to `origin`.
    static func lines(_ call: GRPCCallView, origin: Timestamp, style: TerminalStyle) -> [String] {
        var out = [style.bold("gRPC call")]
        func field(_ name: String, _ value: String) {
            out.append("  " + ShowText.pad(name, 13) + ShowText.sanitize(value))
        }
        field("method", call.fullMethod)
        field("kind", call.kindText)
        field("protocol", call.contentType.name + (call.contentType.isJSON ? " (JSON messages)" : ""))
        if let request = call.requestType, let response = call.responseType { field("types", "\(request) → \(response)") }
        field("messages", "→\(call.messageCount(.request)) ←\(call.messageCount(.response))")
        for (title, metadata) in [("request metadata", call.requestMetadata), ("response metadata", call.responseMetadata)]
        where !metadata.isEmpty {
            out.append("  " + title)
            out += metadata.map { "    " + ShowText.sanitize("\($0.name): \($0.value)") }
        }

        if !call.messages.isEmpty {
            out.append("")
            out.append(style.bold("gRPC messages"))
            for message in call.messages {
                out.append("  " + heading(message, origin: origin, style: style))
                out += body(message.content, style: style).map { "    " + $0 }
            }
        }

        if let trailers = call.trailers, !trailers.isEmpty {
            out.append("")
            out.append(style.bold("gRPC trailers"))
            out += trailers.map { "  " + ShowText.sanitize("\($0.name): \($0.value)") }
        }
        if let status = call.status {
            out.append("")
            out.append(style.bold("gRPC status"))
            let text = "\(status.name) (\(status.code))" + (status.message.isEmpty ? "" : ": " + ShowText.sanitize(status.message))
            out.append("  " + (status.isOK ? style.green(text) : style.red(text)))
            if let details = call.statusDetails {
                out.append("  details (google.rpc.Status):")
                out += jsonLines(details).map { "    " + $0 }
            }
        }
        if !call.notes.isEmpty {
            out.append("")
            out += call.notes.map { "  " + style.yellow("note: " + ShowText.sanitize($0)) }
        }
        return out
    }

    /// `→ request 0  +1.234 ms  12 bytes  pkg.Type`.
    private static func heading(_ message: GRPCCapturedMessage, origin: Timestamp, style: TerminalStyle) -> String {
        var parts = [(message.direction == .request ? "→ request " : "← response ") + String(message.index)]
        if let time = message.time {
            parts.append("+" + ShowText.milliseconds(origin.milliseconds(to: time)) + (message.timeIsChunkTime ? "" : " (head time)"))
        }
        parts.append("\(message.wireBytes) bytes" + (message.compressed ? " compressed" : ""))
        switch message.content {
        case .decoded(_, let typeName): parts.append(typeName)
        case .raw: parts.append("raw (no schema type)")
        case .json: parts.append("JSON")
        case .notDecoded, .incomplete: break
        }
        return style.bold(parts.joined(separator: "  "))
    }

    private static func body(_ content: GRPCMessageContent, style: TerminalStyle) -> [String] {
        switch content {
        case .decoded(let value, _), .json(let value):
            return jsonLines(value)
        case .raw(let value, let reason):
            return [style.dim("(\(ShowText.sanitize(reason)))")] + jsonLines(value)
        case .notDecoded(let reason):
            return [style.yellow(ShowText.sanitize(reason))]
        case .incomplete(let stored, let declared):
            return [style.yellow(declared.map { "incomplete: \(stored) of \($0) bytes captured" }
                                 ?? "incomplete: the capture ends inside the message's length prefix")]
        }
    }

    private static func jsonLines(_ value: JSONValue) -> [String] {
        JSONWriter.text(value).split(separator: "\n", omittingEmptySubsequences: false).map { ShowText.sanitize(String($0)) }
    }
}
