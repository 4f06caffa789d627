/// The parameters of the permessage-deflate extension (RFC 7692 §7.1) in an offer
/// or a response.
///
/// In an offer, `client_max_window_bits` may come without a value ("I can limit my
/// window; tell me how"), recorded as `clientMaxWindowBitsOffered` with a nil
/// `clientMaxWindowBits`. In a response every window parameter has a value.
///
/// What the negotiated parameters mean for each direction: the client's messages
/// are compressed with a window of at most `clientWindowBits` and, when
/// `clientNoContextTakeover`, with a fresh window per message; likewise for the server.
public struct PerMessageDeflateParameters: Sendable, Equatable {
    public static let extensionName = "permessage-deflate"

    public var serverNoContextTakeover = false
    public var clientNoContextTakeover = false
    /// 8...15, nil when absent (15).
    public var serverMaxWindowBits: Int?
    /// 8...15, nil when absent or offered without a value.
    public var clientMaxWindowBits: Int?
    /// `client_max_window_bits` appeared, with or without a value.
    public var clientMaxWindowBitsOffered = false

    public init(serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
                serverMaxWindowBits: Int? = nil, clientMaxWindowBits: Int? = nil) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.clientMaxWindowBitsOffered = clientMaxWindowBits != nil
    }

    /// The window the client compresses with.
    public var clientWindowBits: Int { clientMaxWindowBits ?? 15 }
    /// The window the server compresses with.
    public var serverWindowBits: Int { serverMaxWindowBits ?? 15 }

    /// Reads one `permessage-deflate` element.
    /// - Parameter isResponse: a server's response (window parameters need values).
    /// - Throws: `invalidDeflateParameter` for unknown or repeated parameters, values
    ///   on the flag parameters, and window bits outside 8...15.
    public init(_ element: WebSocketExtension, isResponse: Bool) throws(WebSocketHandshakeError) {
        guard element.name == Self.extensionName else {
            throw .invalidDeflateParameter("\(element.name) is not \(Self.extensionName)")
        }
        var seen: Set<String> = []
        for parameter in element.parameters {
            guard seen.insert(parameter.name).inserted else {
                throw .invalidDeflateParameter("\(parameter.name) appears twice")
            }
            switch parameter.name {
            case "server_no_context_takeover", "client_no_context_takeover":
                guard parameter.value == nil else {
                    throw .invalidDeflateParameter("\(parameter.name) takes no value")
                }
                if parameter.name == "server_no_context_takeover" { serverNoContextTakeover = true }
                else { clientNoContextTakeover = true }
            case "server_max_window_bits":
                serverMaxWindowBits = try Self.windowBits(parameter)
            case "client_max_window_bits":
                clientMaxWindowBitsOffered = true
                if parameter.value == nil, !isResponse { continue }
                clientMaxWindowBits = try Self.windowBits(parameter)
            default:
                throw .invalidDeflateParameter("unknown parameter \(parameter.name)")
            }
        }
    }

    /// The permessage-deflate parameters a server accepted in its handshake response
    /// (all its `Sec-WebSocket-Extensions` fields), or nil when it accepted none.
    public static func negotiated(responseHeaders: HTTPHeaders) throws(WebSocketHandshakeError) -> PerMessageDeflateParameters? {
        let extensions = try WebSocketExtension.parse(responseHeaders.values(name: "Sec-WebSocket-Extensions"))
        guard let element = extensions.first(where: { $0.name == extensionName }) else { return nil }
        return try PerMessageDeflateParameters(element, isResponse: true)
    }

    /// The element for a `Sec-WebSocket-Extensions` field.
    public var extensionElement: WebSocketExtension {
        var parameters: [WebSocketExtension.Parameter] = []
        if serverNoContextTakeover { parameters.append(.init(name: "server_no_context_takeover", value: nil)) }
        if clientNoContextTakeover { parameters.append(.init(name: "client_no_context_takeover", value: nil)) }
        if let bits = serverMaxWindowBits { parameters.append(.init(name: "server_max_window_bits", value: String(bits))) }
        if let bits = clientMaxWindowBits {
            parameters.append(.init(name: "client_max_window_bits", value: String(bits)))
        } else if clientMaxWindowBitsOffered {
            parameters.append(.init(name: "client_max_window_bits", value: nil))
        }
        return WebSocketExtension(name: Self.extensionName, parameters: parameters)
    }

    private static func windowBits(_ parameter: WebSocketExtension.Parameter) throws(WebSocketHandshakeError) -> Int {
        guard let text = parameter.value, text.utf8.count <= 2, text.utf8.first != UInt8(ascii: "0"),
              let bits = Int(text), (8...15).contains(bits) else {
            throw .invalidDeflateParameter("\(parameter.name) must be 8...15, got \(parameter.value ?? "no value")")
        }
        return bits
    }
}
