import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineTLS
import TaplineWire

/// Reads the sessions `tapline mock` serves into `MockRecording`s: every flow with a
/// request and a final response (HTTP exchanges and WebSocket handshakes; tunnels and
/// flows that got no response are left out), session by session, in recorded order.
///
/// Memory: the flows' metadata and each request body in comparable form (at most
/// `requestBodyLimit` bytes of it held; a larger one is read a piece at a time into its
/// digest); response bodies stay on disk and are streamed when served. Runs on the caller's thread (startup, SIGHUP).
public enum MockSessionLoader {
    /// Request bodies of at most this many bytes as sent are compared in their decoded,
    /// structured form (`MockRequestBody`); larger ones by their size and the SHA-256 of
    /// their bytes as sent, read here and received live (`MockLiveRequestBody`) a piece
    /// at a time.
    public static let requestBodyLimit = 16 << 20

    /// How much of a large recorded body is read at a time to digest it.
    private static let digestChunkSize = 1 << 20

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
                let body: MockRequestBody
                do throws(CaptureError) {
                    body = try comparedBody(of: flow, request: request, grpcDecoder: grpcDecoder)
                } catch {
                    throw MockSessionError(session: session.id, reason: "flow \(flow.id): request body: \(error)")
                }
                let mockRequest = MockRequest(method: request.method, url: RequestURL(flow: flow), fallbackPath: request.target,
                                              headers: request.headers, body: body)
                recordings.append(MockRecording(flow: flow, session: session.id, request: mockRequest))
            }
        }
        return recordings
    }

    /// The recorded request body in the form a live one is compared in.
    private static func comparedBody(of flow: CapturedFlow, request: HTTPRequestHead,
                                     grpcDecoder: GRPCCallDecoder) throws(CaptureError) -> MockRequestBody {
        let stored = flow.requestBody
        guard stored.capturedBytes > 0 else {
            return MockRequestBody([], target: request.target, headers: request.headers, grpcDecoder: grpcDecoder)
        }
        guard stored.capturedBytes > UInt64(requestBodyLimit) else {
            let bytes = try LoadedBody.load(stored, headers: request.headers, limit: requestBodyLimit).bytes
            return MockRequestBody(bytes, target: request.target, headers: request.headers, grpcDecoder: grpcDecoder)
        }
        let reader = CapturedBodyReader(stored)
        defer { reader.close() }
        let hasher = SHA256Hasher()
        while !reader.isAtEnd {
            hasher.update(try reader.nextSlice(maxBytes: digestChunkSize))
        }
        return .bytes(sha256: hasher.finishHex(), count: Int(stored.capturedBytes))
    }
}
