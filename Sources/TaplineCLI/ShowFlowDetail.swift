import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineWire

/// `tapline show SESSION --flow N`: everything about one flow, in the order
/// it happened: connection, upstream, timings, request head exactly as
/// captured (start line, headers in order and case), body preview, trailers,
/// interim and final response, error. A flow imported from a HAR shows what its
/// entry recorded where the capture holds a derived value: the `httpVersion`
/// strings in the start lines and the `timings` phases. A gRPC call (`call`) adds its
/// messages, trailers and status details (`ShowGRPCCall`). Pure apart from reading
/// body previews.
enum ShowFlowDetail {
    static func lines(_ flow: CapturedFlow, session: CapturedSession, style: TerminalStyle,
                      call: GRPCCallView? = nil) -> [String] {
        let recorded = HARRecordedEntry(flow: flow)
        var out: [String] = []
        func section(_ title: String) {
            if !out.isEmpty { out.append("") }
            out.append(style.bold(title))
        }
        func field(_ name: String, _ value: String) {
            out.append("  " + ShowText.pad(name, 13) + ShowText.sanitize(value))
        }

        out.append(style.bold("Flow \(flow.id)") + "  \(FlowSummaryText.method(flow)) \(ShowText.sanitize(flow.url))  "
                   + "\(FlowSummaryText.status(flow))  (\(flow.kind.rawValue), \(FlowSummaryText.stateText(flow)))")
        out.append("  session \(session.id), started \(ShowText.localTime(flow.started))")
        for note in ShowWebSocketTimeline.cappedNotes(flow) { out.append("  " + style.yellow(note)) }

        section("Connection \(flow.connection)")
        field("client", flow.clientAddress ?? "unknown")
        if let connection = session.connections.first(where: { $0.id == flow.connection }), !connection.listener.isEmpty {
            field("listener", ProxyListenersText.describe(connection.listener, proxy: session.metadata.proxy))
        }
        if let tls = flow.clientTLS {
            field("TLS", tlsSummary(tls))
        } else {
            field("TLS", flow.scheme == "https" ? "unknown" : "none (plain)")
        }
        out += ShowHTTP2Detail.lines(flow, session: session)

        if flow.serverAddress != nil || flow.upstreamTLS != nil {
            section("Upstream")
            field("server", (flow.serverAddress ?? "unknown") + (flow.upstreamReused ? " (reused connection)" : " (new connection)"))
            if let tls = flow.upstreamTLS {
                field("TLS", tlsSummary(tls))
                if let certificate = tls.peerCertificate {
                    field("certificate", certificate.subject)
                    field("issuer", certificate.issuer)
                    field("sha256", certificate.sha256Fingerprint)
                }
            }
        }

        if let recordedTimings = recorded?.recordedTimings {
            let timingLines = Self.recordedTimings(recordedTimings)
            if !timingLines.isEmpty {
                section("Timings (as recorded in the imported HAR)")
                for (name, value) in timingLines { field(name, value) }
            }
        } else {
            let timingLines = timings(flow)
            if !timingLines.isEmpty {
                section("Timings")
                for (name, value) in timingLines { field(name, value) }
            }
        }

        if flow.kind == .websocket {
            section("WebSocket messages")
            out += ShowWebSocketTimeline.lines(flow, sessionDirectory: session.directory, style: style).map { "  " + $0 }
            field("from client", "\(flow.bytesFromClient) bytes after the handshake")
            field("from server", "\(flow.bytesFromServer) bytes after the handshake")
        }

        if flow.kind == .tunnel {
            section("Tunnel")
            field("from client", "\(flow.bytesFromClient) bytes")
            field("from server", "\(flow.bytesFromServer) bytes")
        }

        if let request = flow.request {
            section("Request")
            let version = recorded?.recordedHTTPVersion(response: false) ?? request.version.description
            out.append("  " + ShowText.sanitize("\(request.method) \(request.target)" + (version.isEmpty ? "" : " \(version)")))
            out += headerLines(request.headers)
            out.append("")
            out += ShowBodyPreview.lines(flow.requestBody, direction: .request, flowInProgress: flow.state == .inProgress,
                                        style: style).map { "  " + $0 }
            if let trailers = flow.requestTrailers, !trailers.isEmpty {
                section("Request trailers")
                out += headerLines(trailers)
            }
        }

        for interim in flow.interimResponses {
            section("Interim response")
            out.append("  " + statusLine(interim, style: style))
            out += headerLines(interim.headers)
        }

        if let response = flow.response {
            section("Response")
            out.append("  " + statusLine(response, version: recorded?.recordedHTTPVersion(response: true), style: style))
            out += headerLines(response.headers)
            out.append("")
            out += ShowBodyPreview.lines(flow.responseBody, direction: .response, flowInProgress: flow.state == .inProgress,
                                        style: style).map { "  " + $0 }
            if let trailers = flow.responseTrailers, !trailers.isEmpty {
                section("Response trailers")
                out += headerLines(trailers)
            }
            if call == nil, let grpc = flow.grpcStatus {
                section("gRPC status")
                let text = "\(grpc.name) (\(grpc.code))" + (grpc.message.isEmpty ? "" : ": " + ShowText.sanitize(grpc.message))
                out.append("  " + (grpc.isOK ? style.green(text) : style.red(text)))
            }
        }

        if let call {
            out.append("")
            out += ShowGRPCCall.lines(call, origin: flow.timings.requestStart ?? flow.requestTime ?? flow.started, style: style)
        }

        if let error = flow.error {
            section("Error")
            out.append("  " + style.red(ShowText.sanitize(error.kind)) + ": " + ShowText.sanitize(error.message))
        } else if flow.state == .inProgress {
            section("State")
            out.append("  " + style.yellow("\(FlowSummaryText.inProgressText): no end was recorded (proxy still running, or killed)"))
        }
        return out
    }

    static func tlsSummary(_ tls: TLSDetails) -> String {
        var parts = [tls.version, tls.cipher]
        if let name = tls.serverName { parts.append("SNI \(name)") }
        if let alpn = tls.alpn { parts.append("ALPN \(alpn)") }
        return parts.joined(separator: "  ")
    }

    /// `version`: the one an imported HAR entry recorded (possibly empty), in place of the parsed one.
    static func statusLine(_ head: HTTPResponseHead, version: String? = nil, style: TerminalStyle) -> String {
        let version = version ?? head.version.description
        let text = ShowText.sanitize((version.isEmpty ? "" : "\(version) ") + "\(head.status)" + (head.reason.isEmpty ? "" : " \(head.reason)"))
        return style.status(head.status, text)
    }

    static func headerLines(_ headers: HTTPHeaders) -> [String] {
        headers.fields.map { "  " + ShowText.sanitize("\($0.name): \($0.value)") }
    }

    /// Phase durations (dns, connect, tls) and moments relative to the request
    /// start (request sent, first byte, done), in ms; only those recorded.
    static func timings(_ flow: CapturedFlow) -> [(String, String)] {
        let t = flow.timings
        var result: [(String, String)] = []
        func span(_ name: String, _ start: Timestamp?, _ end: Timestamp?) {
            if let start, let end { result.append((name, ShowText.milliseconds(start.milliseconds(to: end)))) }
        }
        span("dns", t.dnsStart, t.dnsEnd)
        span("connect", t.connectStart, t.connectEnd)
        span("tls", t.tlsStart, t.tlsEnd)
        let origin = t.requestStart ?? flow.requestTime ?? flow.started
        func moment(_ name: String, _ time: Timestamp?) {
            if let time { result.append((name, "+" + ShowText.milliseconds(origin.milliseconds(to: time)))) }
        }
        moment("request sent", t.requestSent)
        moment("first byte", t.firstResponseByte)
        moment("done", t.done)
        return result
    }

    /// An imported entry's HAR phases as it recorded them (`connect` includes `ssl`),
    /// to the µs; -1 is HAR's "does not apply".
    static func recordedTimings(_ timings: HARRecordedTimings) -> [(String, String)] {
        timings.recordedPhases.map { name, milliseconds in
            guard milliseconds >= 0 else { return (name, "-1 (does not apply)") }
            // HAR's own spelling of a timing: at most three decimals, no trailing `.0`.
            guard case .number(let text) = JSONValue.milliseconds(milliseconds) else { return (name, "") }
            return (name, text + " ms")
        }
    }
}
