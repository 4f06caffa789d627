import TaplineCapture
import TaplineExport
import TaplineFlow

/// The short facts of a flow shown in `tapline show SESSION` and its JSON:
/// what the status column says, the content type, the sizes.
enum FlowSummaryText {
    /// The response status, or why there is none: the error kind, `tunnel`,
    /// `tls-failed`. A flow still in progress (no `flowEnded` yet) says so after its
    /// status, or alone before its response head was captured (`200 in progress`,
    /// `in progress`). A gRPC call that failed has its gRPC status name after the HTTP
    /// status (`200 NOT_FOUND`).
    static func status(_ flow: CapturedFlow) -> String {
        switch flow.kind {
        case .tunnel where flow.response == nil: return flow.error?.kind ?? "tunnel"
        case .tlsFailed: return "tls-failed"
        default: break
        }
        if let status = flow.clientStatus {
            if let error = flow.error { return "\(status) \(error.kind)" }
            if flow.state == .inProgress { return "\(status) \(inProgressText)" }
            if let grpc = flow.grpcStatus, !grpc.isOK { return "\(status) \(grpc.name)" }
            return String(status)
        }
        if let error = flow.error { return error.kind }
        return flow.state == .inProgress ? inProgressText : "-"
    }

    /// What `show` says of a flow without `flowEnded` (its state is `open` in JSON).
    static let inProgressText = "in progress"

    /// The flow's state in words: `in progress`, `complete` or `aborted`.
    static func stateText(_ flow: CapturedFlow) -> String {
        flow.state == .inProgress ? inProgressText : flow.state.rawValue
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
    /// A body whose message did not end counts the bytes captured (see `isPartial`).
    static func requestBytes(_ flow: CapturedFlow) -> UInt64 {
        relaysBytes(flow) ? flow.bytesFromClient : flow.requestBody.bodyBytes
    }

    static func responseBytes(_ flow: CapturedFlow) -> UInt64 {
        relaysBytes(flow) ? flow.bytesFromServer : flow.responseBody.bodyBytes
    }

    /// True when some of the flow's request (or response) body was captured but the
    /// message never ended: torn, aborted by either side, or still streaming. Its
    /// size is then what was captured up to that point. A message with no body bytes
    /// and no end (a request whose flow failed before it was sent on) is not marked:
    /// its 0 B is all there is to say, and the status column says why it stopped.
    static func isPartial(_ flow: CapturedFlow, _ direction: BodyDirection) -> Bool {
        guard !relaysBytes(flow) else { return false }
        let body = flow.body(direction)
        return !body.isComplete && body.capturedBytes > 0
    }

    /// The body's content codings (`gzip`, `br, gzip`: `CapturedFlow.contentCodings`),
    /// lowercased; nil when the body is stored as it means (none, `identity`) or the
    /// flow relays bytes.
    static func contentEncoding(_ flow: CapturedFlow, _ direction: BodyDirection) -> String? {
        guard !relaysBytes(flow) else { return nil }
        let codings = flow.contentCodings(direction)
        return codings.isEmpty ? nil : ShowText.sanitize(codings.joined(separator: ", "))
    }

    /// The REQ/RESP column: the size, then the content coding when the stored bytes
    /// are encoded (`19 kB gzip`: 19 kB compressed), then `cut` when the message did
    /// not end (`93 kB cut`: what was captured before it stopped), or `so far` when it
    /// may still be arriving (the flow is in progress).
    static func sizeText(_ flow: CapturedFlow, _ direction: BodyDirection) -> String {
        var text = ByteCountText.format(direction == .request ? requestBytes(flow) : responseBytes(flow))
        if let coding = contentEncoding(flow, direction) { text += " " + coding }
        if isPartial(flow, direction) { text += flow.state == .inProgress ? " so far" : " cut" }
        return text
    }

    /// Tunnels and WebSockets count relayed bytes, not one body.
    private static func relaysBytes(_ flow: CapturedFlow) -> Bool {
        flow.kind == .tunnel || flow.kind == .websocket
    }

    /// The flow's HTTP version as `show` names it: for a flow imported from a HAR, the
    /// `httpVersion` its request recorded, as spelled (`spdy`, `h3`, `http/2.0`; `""` when
    /// the tool wrote none), not the version the import parsed it to; else
    /// `CapturedFlow.protocolName` (`HTTP/1.1`, `HTTP/2`, `-`).
    static func protocolName(_ flow: CapturedFlow) -> String {
        HARRecordedEntry(flow: flow)?.recordedHTTPVersion(response: false) ?? flow.protocolName
    }

    /// `HTTP/1.1`, or `HTTP/2 #3` (with the client's stream id), or an imported flow's
    /// recorded version (`spdy`), or `-`; a WebSocket opened by an HTTP/2 extended
    /// CONNECT says so: `HTTP/2 #3 ws`.
    static func protocolText(_ flow: CapturedFlow) -> String {
        let name = protocolName(flow)
        let text = flow.http2StreamID.map { "HTTP/2 #\($0)" } ?? (name.isEmpty ? "-" : ShowText.sanitize(name))
        return flow.kind == .websocket && flow.isExtendedConnectWebSocket ? text + " ws" : text
    }

    static func duration(_ flow: CapturedFlow) -> String {
        flow.durationMilliseconds.map(ShowText.milliseconds) ?? "-"
    }
}
