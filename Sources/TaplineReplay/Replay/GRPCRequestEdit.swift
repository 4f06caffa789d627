import TaplineCapture
import TaplineExport
import TaplineProtobuf
import TaplineWire

/// `tapline replay --edit FLOW=FILE.json`: the request body of a recorded unary gRPC call
/// with its one message replaced by `json`, encoded as the method's input type
/// (`ProtobufJSONReader`, `ProtobufMessageEncoder`) and framed as the recorded message
/// was: the same compressed flag (compressed with the request's `grpc-encoding` when it
/// was set, `GRPCMessageCompressor`), a 5-byte prefix, base64 for gRPC-Web text.
///
/// Pure: the caller reads the stored body and the JSON file. A value type.
public struct GRPCRequestEdit: Sendable {
    public let schema: ProtoSchema?

    public init(schema: ProtoSchema?) {
        self.schema = schema
    }

    /// The new request body of `flow`.
    /// - Parameters:
    ///   - storedRequestBody: the recorded request body (to read the recorded message's framing).
    ///   - file: where `json` came from, for the error.
    /// - Throws: `ReplayEditError`: not gRPC, not unary, no schema for the method, JSON that
    ///   does not fit the input type (with its JSON Pointer), a compression that fails.
    public func requestBody(of flow: CapturedFlow, storedRequestBody: [UInt8], json: JSONValue,
                            file: String) throws(ReplayEditError) -> [UInt8] {
        let contentTypeText = flow.request?.headers.first(name: "Content-Type")
        guard let request = flow.request, let contentType = GRPCContentType(contentTypeText), !contentType.isJSON else {
            throw .notGRPC(flow.id, contentType: contentTypeText)
        }
        let path = request.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.target
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 2 else { throw .notGRPC(flow.id, contentType: contentTypeText) }
        let fullMethod = "\(parts[0])/\(parts[1])"
        guard let schema else { throw .noSchema(flow.id, method: fullMethod, reason: "no schema given") }
        guard let service = schema.service(named: parts[0]) else {
            throw .noSchema(flow.id, method: fullMethod, reason: "the schema has no service \(parts[0])")
        }
        guard let method = service.methods.first(where: { $0.name == parts[1] }) else {
            throw .noSchema(flow.id, method: fullMethod, reason: "service \(parts[0]) in the schema has no method \(parts[1])")
        }
        if method.clientStreaming || method.serverStreaming {
            let kind = GRPCCallKind(clientStreaming: method.clientStreaming, serverStreaming: method.serverStreaming)
            throw .notUnary(flow.id, method: fullMethod, reason: "the schema says it is \(kind.rawValue)")
        }
        let recorded = try recordedFrame(flow, storedRequestBody, contentType: contentType, method: fullMethod)

        let message: ProtobufMessageValue
        do {
            message = try ProtobufJSONReader(schema: schema).message(from: json, as: method.inputType)
        } catch {
            throw .jsonDoesNotFit(flow.id, file: file, typeName: method.inputType, error)
        }
        var payload = ProtobufMessageEncoder(schema: schema).encode(message)
        if recorded.isCompressed {
            do {
                payload = try GRPCMessageCompressor.compress(payload, grpcEncoding: request.headers.first(name: "grpc-encoding"))
            } catch {
                throw .cannotCompress(flow.id, error)
            }
        }
        let frame = GRPCMessageFrame.encoded(payload, flags: recorded.flags & GRPCMessageFrame.compressedFlag)
        return contentType.isBase64 ? Array(Base64.encode(frame).utf8) : frame
    }

    /// The recorded call's one request message frame.
    private func recordedFrame(_ flow: CapturedFlow, _ stored: [UInt8], contentType: GRPCContentType,
                               method: String) throws(ReplayEditError) -> GRPCMessageFrame {
        let bytes = contentType.isBase64 ? GRPCWebTextDecoder.decodeStored(stored) ?? [] : stored
        let (events, failure) = GRPCMessageFramer.events(ofWholeBody: bytes, framing: contentType.framing)
        if let failure {
            throw .notUnary(flow.id, method: method, reason: "its recorded request body is not whole gRPC frames: \(failure)")
        }
        let frames = events.compactMap { event -> GRPCMessageFrame? in
            if case .message(let frame) = event { return frame }
            return nil
        }
        guard frames.count == 1, let frame = frames.first else {
            throw .notUnary(flow.id, method: method, reason: "it was recorded with \(frames.count) request messages, not 1")
        }
        return frame
    }
}
