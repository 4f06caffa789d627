import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineWire

/// `tapline show SESSION` without `--flow`: one aligned line per flow
/// (id, method, URL, status, content type, request and response sizes,
/// duration), as text lines or JSON. A gRPC call (its view in `calls`, by flow id)
/// shows `gRPC`, `pkg.Svc/Method kind →requests ←responses` and its gRPC status in the
/// method, URL and status columns; JSON adds a `grpc` object. Pure: returns text, prints nothing.
enum ShowFlowList {
    /// URLs wider than this do not widen the column for every row (the long
    /// one is still printed in full).
    static let urlColumnLimit = 80

    static func lines(_ session: CapturedSession, style: TerminalStyle, flows selected: [CapturedFlow]? = nil,
                      calls: [UInt64: GRPCCallView] = [:]) -> [String] {
        let flows = selected ?? session.flows
        var rows = [["ID", "METHOD", "URL", "STATUS", "TYPE", "REQ", "RESP", "TIME", "PROTO"]]
        for flow in flows {
            let call = calls[flow.id.rawValue]
            rows.append([String(flow.id.rawValue), call.map(ShowGRPCCall.protocolLabel) ?? FlowSummaryText.method(flow),
                         ShowText.sanitize(call.map(ShowGRPCCall.listText) ?? flow.url),
                         call.map { ShowGRPCCall.statusText($0, flow: flow) } ?? FlowSummaryText.status(flow),
                         FlowSummaryText.contentType(flow),
                         FlowSummaryText.sizeText(flow, .request),
                         FlowSummaryText.sizeText(flow, .response), FlowSummaryText.duration(flow),
                         FlowSummaryText.protocolText(flow)])
        }
        let lines = ShowText.table(rows, rightAligned: [0, 5, 6, 7], maxWidths: [2: urlColumnLimit]) { row, column, cell in
            if row == 0 { return style.bold(cell) }
            guard column == 3 else { return cell }
            let flow = flows[row - 1]
            if let status = calls[flow.id.rawValue]?.status { return status.isOK ? style.green(cell) : style.red(cell) }
            if let status = flow.clientStatus { return style.status(status, cell) }
            return flow.error != nil ? style.red(cell) : style.dim(cell)
        }
        return lines
    }

    static func json(_ session: CapturedSession, flows selected: [CapturedFlow]? = nil,
                     calls: [UInt64: GRPCCallView] = [:]) -> String {
        ShowJSON.text(.array((selected ?? session.flows).map { flow in
            let type = FlowSummaryText.contentType(flow)
            var members = [
                JSONMember("id", .integer(flow.id.rawValue)),
                JSONMember("connection", .integer(flow.connection.rawValue)),
                JSONMember("kind", .string(flow.kind.rawValue)),
                JSONMember("state", .string(flow.state.rawValue)),
                JSONMember("url", .string(flow.url)),
                JSONMember("status", flow.clientStatus.map { .integer($0) } ?? .null),
                JSONMember("statusText", .string(FlowSummaryText.status(flow))),
                JSONMember("requestBytes", .integer(FlowSummaryText.requestBytes(flow))),
                JSONMember("responseBytes", .integer(FlowSummaryText.responseBytes(flow))),
                JSONMember("durationMs", flow.durationMilliseconds.map(JSONValue.double) ?? .null),
                // The sizes' qualifiers, as in the text columns: encoded bytes, a message that did not end.
                JSONMember("requestEncoding", FlowSummaryText.contentEncoding(flow, .request).map { .string($0) } ?? .null),
                JSONMember("responseEncoding", FlowSummaryText.contentEncoding(flow, .response).map { .string($0) } ?? .null),
                JSONMember("requestPartial", .bool(FlowSummaryText.isPartial(flow, .request))),
                JSONMember("responsePartial", .bool(FlowSummaryText.isPartial(flow, .response))),
                JSONMember("method", flow.request.map { .string($0.method) } ?? .null),
                JSONMember("protocol", .string(FlowSummaryText.protocolName(flow))),
                JSONMember("stream", flow.http2StreamID.map { .integer($0) } ?? .null),
                JSONMember("contentType", type == "-" ? .null : .string(type)),
                JSONMember("error", flow.error.map(ShowFlowJSON.error) ?? .null),
            ]
            if let call = calls[flow.id.rawValue] { members.append(JSONMember("grpc", call.summaryJSON)) }
            return .object(members)
        }))
    }
}
