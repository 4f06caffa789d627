import TaplineProtobuf
import TaplineWire

/// One conversation with a server's reflection service, sans I/O: what to ask, in what
/// order, and what the answers make. `ServerReflectionClient` carries it over an HTTP/2
/// leg; a test drives it with scripted responses.
///
/// The conversation opens a `ServerReflectionInfo` bidi call (`v1`), sends `list_services`
/// (or, for one symbol, `file_containing_symbol`), then `file_containing_symbol` for each
/// listed service, and `file_by_filename` for every dependency of a received file that
/// has not arrived (servers differ: grpc-python sends a file's transitive dependencies
/// with it, grpc-go only those not sent before). The server answers the requests of a
/// call in order, one response each. When every request is answered it half-closes the
/// call and finishes with the files as a `ProtoSchema`. A call that ends UNIMPLEMENTED
/// before any answer is opened again as `v1alpha`. A dependency the server cannot give
/// that is a built-in well-known file is taken from `WellKnownProtoFiles`.
///
/// Invariant: after `.finished` or `.failed` no further action is returned.
/// A value type; one owner at a time (the client's loop thread).
public struct ServerReflectionConversation {
    /// What the owner does next, in order.
    public enum Action {
        /// Start a call on `version.methodPath` (the previous call, if any, has ended).
        case openCall(ServerReflectionVersion)
        /// Send one request message (its protobuf bytes; the owner adds the gRPC frame prefix).
        case send([UInt8])
        /// No more requests: end the request stream.
        case finishCall
        case finished(ServerReflectionResult)
        case failed(ServerReflectionError)
    }

    /// A request sent and not yet answered.
    private enum PendingRequest {
        case listServices
        case symbol(String)
        /// The file of a service the server listed.
        case service(String)
        case file(String)

        var description: String {
            switch self {
            case .listServices: "service list"
            case .symbol(let name), .service(let name): "symbol \(name)"
            case .file(let name): "file \(name)"
            }
        }
    }

    public let query: ServerReflectionQuery
    /// For errors: the upstream as the user wrote it.
    private let upstream: String
    public private(set) var version = ServerReflectionVersion.v1
    /// Oldest first: the server answers in order.
    private var pending: [PendingRequest] = []
    private var answersOnThisCall = 0
    private var filesByName: [String: ProtoFile] = [:]
    /// Received and requested file names, in the order first seen.
    private var fileOrder: [String] = []
    private var requestedFiles: Set<String> = []
    private var rootFiles: [String] = []
    private var services: [String] = []
    private var servicesWithoutDescriptors: [String] = []
    private var isOver = false

    public init(query: ServerReflectionQuery, upstream: String) {
        self.query = query
        self.upstream = upstream
    }

    /// The first call and its first request.
    public mutating func start() -> [Action] {
        [.openCall(version)] + firstRequests()
    }

    /// One response message (its protobuf bytes, without the frame prefix) arrived.
    public mutating func received(message bytes: ArraySlice<UInt8>) -> [Action] {
        guard !isOver else { return [] }
        answersOnThisCall += 1
        let response: ProtobufMessageValue
        do {
            response = try ProtobufMessageDecoder(schema: ServerReflectionProto.schema).decode(bytes, as: ServerReflectionProto.responseType)
        } catch {
            return fail(.badResponse("not a ServerReflectionResponse: \(error)"))
        }
        guard !pending.isEmpty else { return fail(.badResponse("a response to no request")) }
        let request = pending.removeFirst()
        var actions: [Action] = []
        if case .message(let list)? = response[ServerReflectionProto.ResponseField.listServicesResponse] {
            services = Self.messages(list, ServerReflectionProto.ResponseField.service).map {
                Self.string($0, ServerReflectionProto.ResponseField.serviceName)
            }.filter { !$0.isEmpty }
            for service in services {
                actions.append(ask(.service(service)))
            }
        } else if case .message(let files)? = response[ServerReflectionProto.ResponseField.fileDescriptorResponse] {
            do {
                actions += try take(files, answering: request)
            } catch {
                return fail(.badResponse(error.description))
            }
        } else if case .message(let problem)? = response[ServerReflectionProto.ResponseField.errorResponse] {
            let code = Self.integer(problem, ServerReflectionProto.ResponseField.errorCode)
            let message = Self.string(problem, ServerReflectionProto.ResponseField.errorMessage)
            if case .service(let name) = request {
                // Servers list services whose descriptors they lack (often reflection itself).
                servicesWithoutDescriptors.append(name)
            } else if case .file(let name) = request, let text = WellKnownProtoFiles.byImportName[name],
                      let file = try? ProtoParser.parse(text: text, name: name) {
                actions += add([file])
            } else {
                return fail(.notFound(request: request.description, code: Int(code), message: message))
            }
        } else {
            return fail(.badResponse("an answer to the \(request.description) request that holds no file, service list or error"))
        }
        guard pending.isEmpty else { return actions }
        return actions + finish()
    }

    /// The call ended (its trailers' status, nil when it had none).
    public mutating func callEnded(status: GRPCStatus?) -> [Action] {
        guard !isOver else { return [] }
        let unimplemented = 12
        if let status, status.code == unimplemented, answersOnThisCall == 0 {
            guard let next = version.fallback else { return fail(.notServed) }
            version = next
            pending = []
            return [.openCall(next)] + firstRequests()
        }
        if let status, !status.isOK {
            return fail(.callFailed(code: status.code, name: status.name, message: status.message))
        }
        return fail(.badResponse("the call ended with \(pending.count) request(s) unanswered"))
    }

    private mutating func firstRequests() -> [Action] {
        answersOnThisCall = 0
        switch query {
        case .allServices: return [ask(.listServices)]
        case .symbol(let name): return [ask(.symbol(name.hasPrefix(".") ? String(name.dropFirst()) : name))]
        }
    }

    private mutating func ask(_ request: PendingRequest) -> Action {
        pending.append(request)
        var message = ProtobufMessageValue(typeName: ServerReflectionProto.requestType)
        switch request {
        case .listServices: message.fields[ServerReflectionProto.RequestField.listServices] = [.string("")]
        case .symbol(let name), .service(let name):
            message.fields[ServerReflectionProto.RequestField.fileContainingSymbol] = [.string(name)]
        case .file(let name):
            requestedFiles.insert(name)
            message.fields[ServerReflectionProto.RequestField.fileByFilename] = [.string(name)]
        }
        return .send(ProtobufMessageEncoder(schema: ServerReflectionProto.schema).encode(message))
    }

    /// The files of a `FileDescriptorResponse`; the first is the one asked for.
    private mutating func take(_ response: ProtobufMessageValue,
                               answering request: PendingRequest) throws(ProtoSchemaError) -> [Action] {
        var files: [ProtoFile] = []
        for value in response.fields[ServerReflectionProto.ResponseField.fileDescriptorProto] ?? [] {
            guard case .bytes(let bytes) = value else { continue }
            files.append(try ProtoDescriptorSetDecoder.file(decodingFileDescriptorProto: bytes[...],
                                                            source: "the answer to the \(request.description) request"))
        }
        switch request {
        case .symbol, .service:
            if let first = files.first, !rootFiles.contains(first.name) { rootFiles.append(first.name) }
        case .listServices, .file:
            break
        }
        return add(files)
    }

    /// Keeps the files not seen yet and asks for their dependencies that have not arrived.
    private mutating func add(_ files: [ProtoFile]) -> [Action] {
        for file in files where filesByName[file.name] == nil {
            filesByName[file.name] = file
            if !requestedFiles.contains(file.name) { fileOrder.append(file.name) }
        }
        var actions: [Action] = []
        for file in files {
            for dependency in file.dependencies where filesByName[dependency] == nil && !requestedFiles.contains(dependency) {
                fileOrder.append(dependency)
                actions.append(ask(.file(dependency)))
            }
        }
        return actions
    }

    private mutating func finish() -> [Action] {
        isOver = true
        let schema: ProtoSchema
        do {
            schema = try ProtoSchema(files: fileOrder.compactMap { filesByName[$0] })
        } catch {
            return [.finishCall, .failed(ServerReflectionError(.schema(error), upstream: upstream))]
        }
        return [.finishCall, .finished(ServerReflectionResult(schema: schema, rootFiles: rootFiles, services: services,
                                                              servicesWithoutDescriptors: servicesWithoutDescriptors,
                                                              version: version))]
    }

    private mutating func fail(_ kind: ServerReflectionError.Kind) -> [Action] {
        isOver = true
        return [.failed(ServerReflectionError(kind, upstream: upstream))]
    }

    private static func string(_ message: ProtobufMessageValue, _ number: Int64) -> String {
        if case .string(let text)? = message[number] { return text }
        return ""
    }

    private static func integer(_ message: ProtobufMessageValue, _ number: Int64) -> Int64 {
        if case .signed(let value)? = message[number] { return value }
        return 0
    }

    private static func messages(_ message: ProtobufMessageValue, _ number: Int64) -> [ProtobufMessageValue] {
        (message.fields[number] ?? []).compactMap { if case .message(let nested) = $0 { nested } else { nil } }
    }
}
