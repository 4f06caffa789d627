import TaplineCapture
import TaplineExport
import TaplineFlow

/// Reads the sessions `tapline mock` serves into `MockRecording`s: every flow with a
/// request and a final response (HTTP exchanges and WebSocket handshakes; tunnels and
/// flows that got no response are left out), session by session, in recorded order.
///
/// Memory: the flows' metadata and each request body in comparable form (at most
/// `requestBodyLimit` bytes of it read); response bodies stay on disk and are streamed
/// when served. Runs on the caller's thread (startup, SIGHUP).
public enum MockSessionLoader {
    /// Request bodies larger than this are compared on their first this-many bytes.
    public static let requestBodyLimit = 16 << 20

    /// - Parameter grpcDecoder: how recorded gRPC calls' request messages are read (the `--proto` schema).
    /// - Throws: `MockSessionError` naming the session, or the flow whose request body cannot be read.
    public static func load(directories: [String],
                            grpcDecoder: GRPCCallDecoder = GRPCCallDecoder(schema: nil)) throws(MockSessionError) -> [MockRecording] {
        var recordings: [MockRecording] = []
        for directory in directories {
            let session: CapturedSession
            do {
                session = try CapturedSession.open(directory: directory)
            } catch {
                throw MockSessionError(session: directory, reason: "\(error)")
            }
            for flow in session.flows {
                guard let request = flow.request, flow.response != nil, flow.kind != .tunnel else { continue }
                var body: [UInt8] = []
                if flow.requestBody.capturedBytes > 0 {
                    do {
                        body = try LoadedBody.load(flow.requestBody, headers: request.headers, limit: requestBodyLimit).bytes
                    } catch {
                        throw MockSessionError(session: session.id, reason: "flow \(flow.id): request body: \(error)")
                    }
                }
                let mockRequest = MockRequest(method: request.method, url: RequestURL(flow: flow), fallbackPath: request.target,
                                              headers: request.headers,
                                              body: MockRequestBody(body, target: request.target, headers: request.headers,
                                                                    grpcDecoder: grpcDecoder))
                recordings.append(MockRecording(flow: flow, session: session.id, request: mockRequest))
            }
        }
        return recordings
    }
}
