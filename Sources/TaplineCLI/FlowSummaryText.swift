import TaplineCapture
import TaplineFlow

/// The short facts of a flow shown in `tapline show SESSION` and its JSON:
/// what the status column says, the content type, the sizes.
enum FlowSummaryText {
    /// The response status, or why there is none: the error kind, `tunnel`,
    /// `tls-failed`, or `pending` for a flow still in progress. A gRPC call that
    /// failed has its gRPC status name after the HTTP status (`200 NOT_FOUND`).
    static func status(_ flow: CapturedFlow) -> String {
        switch flow.kind {
        case .tunnel where flow.response == nil: return flow.error?.kind ?? "tunnel"
        case .tlsFailed: return "tls-failed"
        default: break
        }
        if let response = flow.response {
            if let error = flow.error { return "\(response.status) \(error.kind)" }
            if let grpc = flow.grpcStatus, !grpc.isOK { return "\(response.status) \(grpc.name)" }
            return String(response.status)
        }
        if let error = flow.error { return error.kind }
        return flow.state == .inProgress ? "pending" : "-"
    }

    /// The method, or what stands in for it on flows without a request.
    static func method(_ flow: CapturedFlow) -> String {
        if let request = flow.request { return ShowText.sanitize(request.method) }
        switch flow.kind {
        case .tunnel: return "TUNNEL"
        case .tlsFailed: return "TLS"
        default: return "-"
        }
    }

    /// The response media type without parameters (`application/json`), or `-`.
    static func contentType(_ flow: CapturedFlow) -> String {
        guard let value = flow.response?.headers.first(name: "Content-Type") else { return "-" }
        var media = value.split(separator: ";", maxSplits: 1).first ?? ""
        while let first = media.first, first == " " || first == "\t" { media = media.dropFirst() }
        while let last = media.last, last == " " || last == "\t" { media = media.dropLast() }
        return media.isEmpty ? "-" : ShowText.sanitize(String(media))
    }

    /// Bytes from the client: the request body, or the relayed bytes of a tunnel or WebSocket.
    static func requestBytes(_ flow: CapturedFlow) -> UInt64 {
        flow.kind == .tunnel || flow.kind == .websocket ? flow.bytesFromClient : flow.requestBody.bodyBytes
    }

    static func responseBytes(_ flow: CapturedFlow) -> UInt64 {
        flow.kind == .tunnel || flow.kind == .websocket ? flow.bytesFromServer : flow.responseBody.bodyBytes
    }

    /// `HTTP/1.1`, or `HTTP/2 #3` (with the client's stream id), or `-`.
    static func protocolText(_ flow: CapturedFlow) -> String {
        flow.http2StreamID.map { "HTTP/2 #\($0)" } ?? flow.protocolName
    }

    static func duration(_ flow: CapturedFlow) -> String {
        flow.durationMilliseconds.map(ShowText.milliseconds) ?? "-"
    }
}
