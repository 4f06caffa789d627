import TaplineCapture
import TaplineFlow
import TaplineProtobuf
import TaplineWire

/// Builds a `GRPCCallView` from a captured flow and its stored body bytes: splits each
/// direction into messages with `GRPCMessageFramer`, undoes `grpc-encoding`
/// (`GRPCMessageDecompressor`), decodes each message as the method's input or output
/// type when the schema defines the method (`ProtobufMessageDecoder`,
/// `ProtobufJSONPrinter`), else schemaless (`RawProtobufMessage`), and decodes
/// `grpc-status-details-bin`.
///
/// Where the messages are: a flow captured with `grpcMessage` lines
/// (`CapturedFlow.grpcMessages`) is split as the proxy split it while recording, and
/// each message's time is when its last byte arrived. A flow captured before those
/// lines existed (or gRPC-Web text) is split here by re-framing the stored bytes, and a
/// message's time is the `recorded` time of the body extent holding its last byte. Both
/// give the same view of a complete call.
///
/// Sans-I/O: the caller reads the bodies (`GRPCCallReader`). Stateless apart from the
/// schema; usable from any thread.
public struct GRPCCallDecoder: Sendable {
    public let schema: ProtoSchema?

    public init(schema: ProtoSchema?) {
        self.schema = schema
    }

    /// The call's content type, from the request's `Content-Type` (else the response's);
    /// nil for a flow that is not gRPC or gRPC-Web.
    public static func contentType(of flow: CapturedFlow) -> GRPCContentType? {
        contentType(in: flow.request?.headers) ?? contentType(in: flow.response?.headers)
    }

    /// The gRPC content type the first `Content-Type` of `headers` names, if any. A value
    /// that does not start like one is passed over on its bytes, without a `String` (a
    /// replay asks this of every flow it compares, and most are not gRPC).
    private static func contentType(in headers: HTTPHeaders?) -> GRPCContentType? {
        headers?.withUnsafeFieldBytes { fields -> GRPCContentType? in
            guard let index = fields.firstIndex(literalName: "Content-Type"),
                  GRPCContentType.startsLikeGRPC(fields.value(index)) else { return nil }
            return GRPCContentType(fields.valueString(index))
        }
    }

    /// The call view of `flow`; nil when it is not a gRPC call (`contentType(of:)`) or has no request.
    /// - Parameters:
    ///   - requestBody, responseBody: the stored bytes of each body, from the first on
    ///     (fewer than passed when the capture truncated it).
    public func view(of flow: CapturedFlow, requestBody: [UInt8], responseBody: [UInt8]) -> GRPCCallView? {
        guard let contentType = Self.contentType(of: flow), let request = flow.request else { return nil }
        let path = request.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.target
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let service = parts.count == 2 ? String(parts[0]) : path
        let method = parts.count == 2 ? String(parts[1]) : ""
        var notes: [String] = []

        let (typeNames, kindFromSchema, noTypeReason) = schemaMethod(named: method, of: service)

        let requestSide = split(.request, bytes: requestBody, flow: flow, contentType: contentType,
                                encoding: request.headers.first(name: "grpc-encoding"),
                                typeName: typeNames?.request, noTypeReason: noTypeReason)
        let responseSide = split(.response, bytes: responseBody, flow: flow, contentType: contentType,
                                 encoding: flow.response?.headers.first(name: "grpc-encoding"),
                                 typeName: typeNames?.response, noTypeReason: noTypeReason)
        notes += requestSide.notes + responseSide.notes
        let messages = requestSide.messages + responseSide.messages
        if messages.contains(where: { !$0.timeIsChunkTime }) {
            notes.append("some message times are those of the request or response head: the capture has no body chunk times for them")
        }

        let trailers = flow.responseTrailers ?? responseSide.webTrailers
        let status = trailers.flatMap { GRPCStatus(fields: $0) } ?? flow.response.flatMap { GRPCStatus(fields: $0.headers) }
        var statusDetails: JSONValue?
        if let value = trailers?.first(name: "grpc-status-details-bin") ?? flow.response?.headers.first(name: "grpc-status-details-bin") {
            do {
                statusDetails = statusJSON(try GRPCStatusDetails(headerValue: value))
            } catch {
                notes.append("\(error)")
            }
        }
        let requestCount = requestSide.messages.count
        let responseCount = responseSide.messages.count
        return GRPCCallView(
            contentType: contentType, service: service, method: method,
            kind: kindFromSchema ?? GRPCCallKind(requestMessages: requestCount, responseMessages: responseCount),
            kindIsInferred: kindFromSchema == nil,
            requestType: typeNames?.request, responseType: typeNames?.response,
            requestMetadata: Self.metadata(request.headers),
            responseMetadata: flow.response.map { Self.metadata($0.headers) } ?? HTTPHeaders(),
            messages: messages, trailers: trailers, status: status, statusDetails: statusDetails, notes: notes)
    }

    /// The schema's message types and call kind for `service`/`method`; without them, why not.
    func schemaMethod(named method: String, of service: String)
        -> (types: (request: String, response: String)?, kind: GRPCCallKind?, noTypeReason: String) {
        guard let schema else { return (nil, nil, "no schema given (--proto or --descriptor-set)") }
        guard let definition = schema.service(named: service) else { return (nil, nil, "the schema has no service \(service)") }
        guard let found = definition.methods.first(where: { $0.name == method }) else {
            return (nil, nil, "service \(service) in the schema has no method \(method)")
        }
        return ((found.inputType, found.outputType),
                GRPCCallKind(clientStreaming: found.clientStreaming, serverStreaming: found.serverStreaming), "")
    }

    /// The call's custom metadata in `headers`, in order: every field but pseudo-headers, the
    /// `grpc-` fields gRPC reserves for itself (`grpc-timeout`, `grpc-encoding`, `grpc-status`,
    /// ...) and the HTTP fields gRPC's transport sets (`Content-Type`, `TE`, `User-Agent`, ...).
    /// What an application set and what `grpcurl -H` would send again.
    static func metadata(_ headers: HTTPHeaders) -> HTTPHeaders {
        var result = HTTPHeaders()
        for field in headers {
            let name = field.name.lowercased()
            if name.hasPrefix(":") || name.hasPrefix("grpc-") || transportFields.contains(name) { continue }
            result.add(name: field.name, value: field.value)
        }
        return result
    }

    /// HTTP fields a gRPC transport sets for itself (lower case); not metadata.
    static let transportFields: Set<String> = [
        "content-type", "te", "user-agent", "host", "content-length", "connection", "transfer-encoding", "trailer",
        "accept-encoding", "content-encoding", "date", "server",
    ]

    private struct DirectionMessages {
        var messages: [GRPCCapturedMessage] = []
        var webTrailers: HTTPHeaders?
        var notes: [String] = []
    }

    /// Splits one direction's stored bytes into decoded messages.
    private func split(_ direction: BodyDirection, bytes stored: [UInt8], flow: CapturedFlow, contentType: GRPCContentType,
                       encoding: String?, typeName: String?, noTypeReason: String) -> DirectionMessages {
        var result = DirectionMessages()
        let body = flow.body(direction)
        let bytes: [UInt8]
        if contentType.isBase64 {
            guard let decoded = GRPCWebTextDecoder.decodeStored(stored) else {
                result.notes.append("the \(direction.rawValue) body is not base64 (grpc-web-text): not split into messages")
                return result
            }
            bytes = decoded
        } else {
            bytes = stored
        }
        if !flow.grpcMessages.isEmpty, !contentType.isBase64 {
            return recordedMessages(direction, bytes: bytes, flow: flow, contentType: contentType, encoding: encoding,
                                    typeName: typeName, noTypeReason: noTypeReason)
        }
        let chunkTimes = BodyChunkTimes(extents: body.extents, scale: contentType.isBase64 ? (4, 3) : (1, 1))
        let headTime = direction == .request ? flow.requestTime : flow.responseTime
        let (events, failure) = GRPCMessageFramer.events(ofWholeBody: bytes, framing: contentType.framing)
        func time(endingAt offset: Int) -> (Timestamp?, Bool) {
            if let chunk = chunkTimes.time(ofByteBefore: offset) { return (chunk, true) }
            return (headTime, false)
        }
        for event in events {
            switch event {
            case .message(let frame):
                let (when, isChunk) = time(endingAt: frame.payloadRange.upperBound)
                result.messages.append(GRPCCapturedMessage(
                    direction: direction, index: result.messages.count, compressed: frame.isCompressed,
                    wireBytes: frame.length, time: when, timeIsChunkTime: isChunk,
                    content: content(frame.payload(in: bytes), compressed: frame.isCompressed, encoding: encoding,
                                     contentType: contentType, typeName: typeName, noTypeReason: noTypeReason)))
            case .trailers(_, let fields):
                result.webTrailers = fields
            }
        }
        switch failure {
        case .truncated(let received, let expected, let frameOffset)?:
            let (when, isChunk) = time(endingAt: bytes.count)
            // `expected` is the prefix's size while the prefix itself is cut, else prefix + payload.
            let prefixWhole = received >= GRPCMessageFrame.prefixSize
            let declared = prefixWhole ? expected - GRPCMessageFrame.prefixSize : nil
            result.messages.append(GRPCCapturedMessage(
                direction: direction, index: result.messages.count,
                compressed: prefixWhole && bytes[frameOffset] & GRPCMessageFrame.compressedFlag != 0,
                wireBytes: declared ?? 0, time: when, timeIsChunkTime: isChunk,
                content: .incomplete(storedBytes: max(0, received - GRPCMessageFrame.prefixSize), declaredBytes: declared)))
            let why = Self.whyIncomplete(body)
            result.notes.append("\(direction.rawValue) message \(result.messages.count - 1) (frame at byte \(frameOffset)) is incomplete: \(why)")
        case let error?:
            result.notes.append("the \(direction.rawValue) body stops being gRPC frames: \(error)")
        case nil:
            break
        }
        return result
    }

    /// Why the stored bytes of `body` end inside a message.
    private static func whyIncomplete(_ body: CapturedBody) -> String {
        body.truncated ? "the capture kept only \(body.capturedBytes) of \(body.bodyBytes) bytes (--max-body-capture)"
                       : body.isComplete ? "the body ended inside it" : "the body did not end"
    }

    /// One direction's messages as the proxy recorded them (`grpcMessage` lines), each
    /// cut out of the stored bytes at its extent; times are the recorded arrival times.
    private func recordedMessages(_ direction: BodyDirection, bytes: [UInt8], flow: CapturedFlow,
                                  contentType: GRPCContentType, encoding: String?, typeName: String?,
                                  noTypeReason: String) -> DirectionMessages {
        var result = DirectionMessages()
        let body = flow.body(direction)
        var firstCutByCapture: (index: Int, frameOffset: Int)?
        for entry in flow.grpcMessages where entry.direction == direction {
            let start = Int(clamping: entry.payloadOffset)
            let frameOffset = start - GRPCMessageFrame.prefixSize
            let storedPayload = max(0, min(bytes.count - start, entry.wireBytes ?? 0))
            switch entry.kind {
            case .message:
                let wire = entry.wireBytes ?? 0
                let content: GRPCMessageContent
                if storedPayload == wire, !entry.truncated {
                    content = self.content(bytes[start..<(start + wire)], compressed: entry.compressed, encoding: encoding,
                                           contentType: contentType, typeName: typeName, noTypeReason: noTypeReason)
                } else {
                    content = .incomplete(storedBytes: storedPayload, declaredBytes: wire)
                    if firstCutByCapture == nil { firstCutByCapture = (entry.index, frameOffset) }
                }
                result.messages.append(GRPCCapturedMessage(
                    direction: direction, index: entry.index, compressed: entry.compressed, wireBytes: wire,
                    time: entry.time, timeIsChunkTime: true, content: content))
            case .webTrailers:
                let end = start + (entry.wireBytes ?? 0)
                var framer = GRPCMessageFramer(framing: .grpcWeb, maxMessageBytes: Int(UInt32.max))
                if frameOffset >= 0, end <= bytes.count,
                   case .trailers(_, let fields)? = (try? framer.consume(Array(bytes[frameOffset..<end])))?.first {
                    result.webTrailers = fields
                } else {
                    result.notes.append("the \(direction.rawValue) trailer frame (at byte \(frameOffset)) is not all stored")
                }
            case .malformed(let reason, let cut):
                guard cut else {
                    result.notes.append("the \(direction.rawValue) body stops being gRPC frames: \(reason)")
                    continue
                }
                result.messages.append(GRPCCapturedMessage(
                    direction: direction, index: entry.index, compressed: entry.compressed, wireBytes: entry.wireBytes ?? 0,
                    time: entry.time, timeIsChunkTime: true,
                    content: .incomplete(storedBytes: storedPayload, declaredBytes: entry.wireBytes)))
                let why = body.isComplete ? "the body ended inside it" : "the stream was cut off inside it"
                result.notes.append("\(direction.rawValue) message \(entry.index) (frame at byte \(frameOffset)) is incomplete: \(why)")
            }
        }
        if let (index, frameOffset) = firstCutByCapture {
            let cut = result.messages.filter { $0.direction == direction && $0.index >= index }.count
            result.notes.append("\(direction.rawValue) message \(index) (frame at byte \(frameOffset))\(cut > 1 ? " and the \(cut - 1) after it" : "") "
                                + "passed whole but \(cut > 1 ? "are" : "is") not all stored: \(Self.whyIncomplete(body))")
        }
        return result
    }

    /// One message's content: decompressed, then decoded by the schema, as JSON text, or raw.
    func content(_ payload: ArraySlice<UInt8>, compressed: Bool, encoding: String?, contentType: GRPCContentType,
                         typeName: String?, noTypeReason: String) -> GRPCMessageContent {
        let plain: [UInt8]
        do {
            plain = try GRPCMessageDecompressor.decompress(payload, compressed: compressed, grpcEncoding: encoding)
        } catch {
            return .notDecoded(reason: error.description)
        }
        if contentType.isJSON {
            do {
                return .json(try JSONParser.parse(plain))
            } catch {
                return .notDecoded(reason: "a +json message that is not JSON: \(error)")
            }
        }
        guard let schema, let typeName else { return raw(plain, reason: noTypeReason) }
        do {
            let value = try ProtobufMessageDecoder(schema: schema).decode(plain, as: typeName)
            return .decoded(try ProtobufJSONPrinter(schema: schema).json(for: value), typeName: typeName)
        } catch {
            return raw(plain, reason: "not a \(typeName): \(error)")
        }
    }

    /// The schemaless decode of `bytes`, or why they are not protobuf.
    private func raw(_ bytes: [UInt8], reason: String) -> GRPCMessageContent {
        do {
            let message = try RawProtobufMessage(decoding: bytes)
            return .raw(try JSONParser.parse(RawProtobufJSON.render(message)), reason: reason)
        } catch {
            return .notDecoded(reason: "not protobuf (\(reason)): \(error)")
        }
    }

    /// A `google.rpc.Status` as proto3 JSON; each detail with `@type`, its fields decoded
    /// with the schema when it defines the type, else schemaless under `value`.
    private func statusJSON(_ details: GRPCStatusDetails) -> JSONValue {
        var members = [JSONMember("code", .integer(details.code))]
        if !details.message.isEmpty { members.append(JSONMember("message", .string(details.message))) }
        let items = details.details.map { any -> JSONValue in
            var fields = [JSONMember("@type", .string(any.typeURL))]
            let typeName = String(any.typeName)
            if let schema, schema.message(named: typeName) != nil,
               let value = try? ProtobufMessageDecoder(schema: schema).decode(any.value, as: typeName),
               case .object(let decoded)? = try? ProtobufJSONPrinter(schema: schema).json(for: value) {
                fields += decoded
            } else if let message = try? RawProtobufMessage(decoding: any.value),
                      let rawJSON = try? JSONParser.parse(RawProtobufJSON.render(message)) {
                fields.append(JSONMember("value", rawJSON))
            } else {
                fields.append(JSONMember("value", .string(Base64.encode(any.value))))
            }
            return .object(fields)
        }
        if !items.isEmpty { members.append(JSONMember("details", .array(items))) }
        return .object(members)
    }
}
