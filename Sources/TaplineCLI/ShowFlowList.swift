import Foundation
import TaplineCapture
import TaplineExport
import TaplineFlow

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
        ShowJSON.text((selected ?? session.flows).map { flow -> [String: Any] in
            var object: [String: Any] = [
                "id": Int(clamping: flow.id.rawValue),
                "connection": Int(clamping: flow.connection.rawValue),
                "kind": flow.kind.rawValue,
                "state": flow.state.rawValue,
                "url": flow.url,
                "status": flow.clientStatus.map { $0 as Any } ?? NSNull(),
                "statusText": FlowSummaryText.status(flow),
                "requestBytes": Int(clamping: FlowSummaryText.requestBytes(flow)),
                "responseBytes": Int(clamping: FlowSummaryText.responseBytes(flow)),
                "durationMs": flow.durationMilliseconds.map { $0 as Any } ?? NSNull(),
            ]
            // The sizes' qualifiers, as in the text columns: encoded bytes, a message that did not end.
            object["requestEncoding"] = FlowSummaryText.contentEncoding(flow, .request) ?? NSNull()
            object["responseEncoding"] = FlowSummaryText.contentEncoding(flow, .response) ?? NSNull()
            object["requestPartial"] = FlowSummaryText.isPartial(flow, .request)
            object["responsePartial"] = FlowSummaryText.isPartial(flow, .response)
            object["method"] = flow.request?.method ?? NSNull()
            object["protocol"] = FlowSummaryText.protocolName(flow)
            object["stream"] = flow.http2StreamID.map { Int($0) as Any } ?? NSNull()
            let type = FlowSummaryText.contentType(flow)
            object["contentType"] = type == "-" ? NSNull() : type
            object["error"] = flow.error.map { ["kind": $0.kind, "message": $0.message] as Any } ?? NSNull()
            if let call = calls[flow.id.rawValue] { object["grpc"] = ShowJSON.foundationObject(call.summaryJSON) }
            return object
        })
    }
}
