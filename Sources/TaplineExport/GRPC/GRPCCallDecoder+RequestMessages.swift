import TaplineWire

extension GRPCCallDecoder {
    /// The request messages of a gRPC call given by its head and whole body, decoded as
    /// `view(of:requestBody:responseBody:)` decodes them (the method's input type when the
    /// schema defines it, else schemaless), each with its payload as framed (compressed or
    /// not): what `tapline mock` compares a live call and a recorded one by. Nil when the
    /// `Content-Type` is not gRPC; a body that stops being gRPC frames ends the list with
    /// a `.notDecoded` entry saying so (its payload: the bytes from there on).
    ///
    /// - Parameters:
    ///   - target: the request's `:path` (`/package.Service/Method`).
    ///   - headers: the request's fields (`Content-Type`, `grpc-encoding`).
    public func requestMessages(target: String, headers: HTTPHeaders, body: [UInt8]) -> [(content: GRPCMessageContent, payload: ArraySlice<UInt8>)]? {
        guard let contentType = GRPCContentType(headers.first(name: "Content-Type")) else { return nil }
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let (types, _, noTypeReason) = parts.count == 2 ? schemaMethod(named: String(parts[1]), of: String(parts[0]))
                                                        : (nil, nil, "\(path) is not /package.Service/Method")
        let bytes: [UInt8]
        if contentType.isBase64 {
            guard let decoded = GRPCWebTextDecoder.decodeStored(body) else {
                return [(.notDecoded(reason: "the body is not base64 (grpc-web-text)"), body[...])]
            }
            bytes = decoded
        } else {
            bytes = body
        }
        let (events, failure) = GRPCMessageFramer.events(ofWholeBody: bytes, framing: contentType.framing)
        var messages: [(content: GRPCMessageContent, payload: ArraySlice<UInt8>)] = []
        var framedBytes = 0
        for case .message(let frame) in events {
            let payload = frame.payload(in: bytes)
            messages.append((content(payload, compressed: frame.isCompressed, encoding: headers.first(name: "grpc-encoding"),
                                     contentType: contentType, typeName: types?.request, noTypeReason: noTypeReason),
                             payload))
            framedBytes = frame.payloadRange.upperBound
        }
        if let failure {
            messages.append((.notDecoded(reason: "the body stops being gRPC frames: \(failure)"), bytes[framedBytes...]))
        }
        return messages
    }
}
