import Foundation
import Synchronization
import TaplineFlow
import TaplineWire

/// The live line per finished flow on stderr:
/// `127.0.0.1:53422 GET https://host/path -> 200 application/json 1.2 kB 35 ms`,
/// or one JSON object per line with `--log-format json`. A gRPC call's line also
/// has its status: `200 application/grpc NOT_FOUND: no such thing 0 B 1 ms`; a
/// gRPC-Web call's comes from the trailer frame in its response body (`GRPCWebStatusReader`).
///
/// Thread ownership: `record` is called from every event loop; the little state
/// it keeps per open flow is guarded by a lock. Never backs up.
final class LiveFlowLog: FlowRecorder, @unchecked Sendable {
    enum Format: String { case text, json }

    private struct FlowLine {
        var client = ""
        var method = ""
        var url = ""
        var status: Int?
        var contentType = ""
        /// The gRPC status, from the trailers or a trailers-only head (gRPC responses only),
        /// or from a gRPC-Web response's trailer frame (`webStatus`).
        var grpcStatus: GRPCStatus?
        /// Reads a gRPC-Web response's body for its trailer frame; nil for other responses.
        var webStatus: GRPCWebStatusReader?
        var kind: FlowKind = .http
        /// The request was an HTTP/2 extended CONNECT for WebSocket (RFC 8441).
        var isExtendedConnect = false
        var started = Timestamp(microseconds: 0)
    }

    private let format: Format
    private let style: TerminalStyle
    private let lock = NSLock()
    private var clients: [ConnectionID: String] = [:]
    private var flows: [FlowID: FlowLine] = [:]
    /// Open flows with a `webStatus` reader: while there are none, response bodies pass
    /// without taking the lock. Relaxed is enough: a flow's body is recorded on the loop
    /// (thread) that recorded its head, which counted it.
    private let gRPCWebFlowsOpen = Atomic<Int>(0)

    init(format: Format, style: TerminalStyle) {
        self.format = format
        self.style = style
    }

    func record(_ event: FlowEvent) {
        switch event {
        case .connectionOpened(let connection, let client, _, _):
            locked { clients[connection] = client }
        case .connectionClosed(let connection, _, _, _, _):
            locked { clients[connection] = nil }
        case .flowStarted(let flow, let connection, let kind, let scheme, let authority, let time):
            locked {
                var line = FlowLine()
                line.client = clients[connection] ?? "?"
                line.kind = kind
                line.url = authority.isEmpty ? "" : "\(scheme)://\(authority)"
                line.started = time
                flows[flow] = line
            }
        case .requestHead(let flow, let head, _):
            locked {
                flows[flow]?.method = head.method
                if WebSocketHandshake.isExtendedConnectRequest(head) {
                    // Its target is the WebSocket's path (`:path`), not an authority.
                    flows[flow]?.isExtendedConnect = true
                    flows[flow]?.url += head.target
                } else if head.method == "CONNECT" {
                    flows[flow]?.url = head.target
                } else if head.target.hasPrefix("http://") || head.target.hasPrefix("https://") {
                    flows[flow]?.url = head.target
                } else {
                    flows[flow]?.url += head.target
                }
            }
        case .responseHead(let flow, let head, _) where !head.isInterim:
            locked {
                guard let line = flows[flow] else { return }
                // What the client got: an extended CONNECT's bridged 101 reached it as 200.
                flows[flow]?.status = WebSocketHandshake.clientStatus(recordedStatus: head.status,
                                                                     extendedConnect: line.isExtendedConnect)
                flows[flow]?.contentType = head.headers.first(name: "Content-Type")
                    .map { String($0.prefix { $0 != ";" }) } ?? ""
                if let type = flows[flow]?.contentType, GRPCStatus.isGRPC(contentType: type) {
                    flows[flow]?.grpcStatus = GRPCStatus(fields: head.headers)  // a trailers-only answer
                } else if line.webStatus == nil, let reader = GRPCWebStatusReader(contentType: flows[flow]?.contentType) {
                    flows[flow]?.grpcStatus = GRPCStatus(fields: head.headers)
                    flows[flow]?.webStatus = reader
                    gRPCWebFlowsOpen.add(1, ordering: .relaxed)
                }
            }
        case .responseBody(let flow, let bytes):
            guard gRPCWebFlowsOpen.load(ordering: .relaxed) > 0 else { return }
            locked {
                guard flows[flow]?.webStatus != nil else { return }
                flows[flow]?.webStatus?.consume(bytes)
                if let status = flows[flow]?.webStatus?.status { flows[flow]?.grpcStatus = status }
            }
        case .responseEnd(let flow, let trailers?, _, _):
            locked {
                guard let type = flows[flow]?.contentType, GRPCStatus.isGRPC(contentType: type),
                      let status = GRPCStatus(fields: trailers) else { return }
                flows[flow]?.grpcStatus = status
            }
        case .flowEnded(let flow, _, let fromClient, let fromServer, let error, let time):
            guard let line = locked({ flows.removeValue(forKey: flow) }) else { return }
            if line.webStatus != nil { gRPCWebFlowsOpen.subtract(1, ordering: .relaxed) }
            StandardError.writeLine(render(line, flow: flow, fromClient: fromClient, fromServer: fromServer,
                                           error: error, ended: time))
        default:
            break
        }
    }

    private func render(_ line: FlowLine, flow: FlowID, fromClient: UInt64, fromServer: UInt64,
                        error: FlowError?, ended: Timestamp) -> String {
        let milliseconds = Int(line.started.milliseconds(to: ended).rounded())
        switch format {
        case .json:
            var members = [
                JSONMember("flow", .integer(flow.rawValue)), JSONMember("client", .string(line.client)),
                JSONMember("method", .string(line.method)), JSONMember("url", .string(line.url)),
                JSONMember("kind", .string(line.kind.rawValue)), JSONMember("requestBytes", .integer(fromClient)),
                JSONMember("responseBytes", .integer(fromServer)), JSONMember("durationMs", .integer(milliseconds)),
            ]
            if let status = line.status { members.append(JSONMember("status", .integer(status))) }
            if !line.contentType.isEmpty { members.append(JSONMember("contentType", .string(line.contentType))) }
            if let grpc = line.grpcStatus {
                members.append(JSONMember("grpcStatus", .integer(grpc.code)))
                if !grpc.message.isEmpty { members.append(JSONMember("grpcMessage", .string(grpc.message))) }
            }
            if let error {
                members.append(JSONMember("error", .object([JSONMember("kind", .string(error.kind.rawValue)),
                                                            JSONMember("message", .string(error.message))])))
            }
            return ShowJSON.line(.object(members))
        case .text:
            var parts = [style.dim(line.client), line.method.isEmpty ? "-" : style.bold(line.method),
                         line.url.isEmpty ? "-" : line.url, "->"]
            if let error {
                if let status = line.status { parts.append(style.status(status, String(status))) }
                parts.append(style.red("\(error.kind.rawValue): \(error.message)"))
            } else if line.kind == .tunnel {
                parts.append(style.cyan("tunnel"))
                parts.append("\(ByteCountText.format(fromClient)) up \(ByteCountText.format(fromServer)) down")
            } else if let status = line.status {
                parts.append(style.status(status, String(status)))
                if !line.contentType.isEmpty { parts.append(line.contentType) }
                if let grpc = line.grpcStatus {
                    parts.append(grpc.isOK ? style.green(grpc.name)
                        : style.red(grpc.message.isEmpty ? grpc.name : "\(grpc.name): \(ShowText.sanitize(grpc.message))"))
                }
                parts.append(ByteCountText.format(fromServer))
            } else {
                parts.append(line.kind.rawValue)
            }
            parts.append(style.dim("\(milliseconds) ms"))
            return parts.joined(separator: " ")
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}
