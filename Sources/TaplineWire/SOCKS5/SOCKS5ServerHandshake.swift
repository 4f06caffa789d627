/// The server side of a SOCKS5 handshake (RFC 1928, with RFC 1929
/// username/password), sans I/O: feed it the client's bytes with `receive`, write
/// every `.send` it returns, and act on the `.connect` or `.failed` that ends it.
///
/// Steps: method selection (no-auth 0x00, or username/password 0x02, which is
/// required when `credentials` is set and otherwise accepted with any
/// credentials from a client that offers nothing else), the sub-negotiation, then
/// one request. Only CONNECT is served; BIND and UDP ASSOCIATE are answered
/// `commandNotSupported`. A SOCKS4 client gets a SOCKS4 "rejected" reply; a
/// client that is not SOCKS at all gets no reply.
///
/// Invariants: every decision depends only on the bytes before it, so the same
/// input gives the same outputs however it is split across `receive` calls; after
/// `.connect` or `.failed` it returns nothing more (bytes received after `.connect`
/// are kept for `takeUnparsedBytes`, after `.failed` dropped). It holds at most one handshake
/// message plus what arrived with it (each message is at most 515 bytes), never
/// traps on any input, and does no I/O. A value type owned by one connection's handler.
public struct SOCKS5ServerHandshake: Sendable {
    private enum Stage {
        case greeting
        case authentication
        case request
        /// CONNECT parsed: later bytes are kept for `takeUnparsedBytes`.
        case connected
        case failed
    }

    private static let version: UInt8 = 5
    private static let noAuthentication: UInt8 = 0x00
    private static let usernamePassword: UInt8 = 0x02
    private static let noAcceptableMethods: UInt8 = 0xFF
    private static let authenticationVersion: UInt8 = 1
    private static let connectCommand: UInt8 = 1

    private let credentials: SOCKS5Credentials?
    private var stage = Stage.greeting
    private var buffer: [UInt8] = []

    /// `credentials`: require exactly this username and password; nil: no authentication.
    public init(credentials: SOCKS5Credentials?) {
        self.credentials = credentials
    }

    /// True once the handshake ended (`.connect` or `.failed` was returned).
    public var isFinished: Bool { stage == .connected || stage == .failed }

    /// Takes more of the client's bytes and returns what to do, in order.
    public mutating func receive(_ bytes: some Collection<UInt8>) -> [SOCKS5HandshakeOutput] {
        guard stage != .failed else { return [] }
        buffer.append(contentsOf: bytes)
        var outputs: [SOCKS5HandshakeOutput] = []
        while !isFinished, let step = nextStep() {
            outputs += step
        }
        return outputs
    }

    /// The bytes the client sent after its CONNECT request (optimistic data), once.
    public mutating func takeUnparsedBytes() -> [UInt8] {
        guard stage == .connected else { return [] }
        defer { buffer = [] }
        return buffer
    }

    /// A reply to a CONNECT request with `code` and an unspecified bound address
    /// (IPv4 0.0.0.0:0; clients do not use it for CONNECT).
    public static func reply(_ code: SOCKS5ReplyCode) -> [UInt8] {
        [version, code.rawValue, 0x00, 0x01, 0, 0, 0, 0, 0, 0]
    }

    // MARK: Stages

    /// Handles one complete message at the front of the buffer; nil when it is incomplete.
    private mutating func nextStep() -> [SOCKS5HandshakeOutput]? {
        switch stage {
        case .greeting: return greeting()
        case .authentication: return authentication()
        case .request: return request()
        case .connected, .failed: return nil
        }
    }

    private mutating func greeting() -> [SOCKS5HandshakeOutput]? {
        guard let first = buffer.first else { return nil }
        guard first == Self.version else {
            // SOCKS4's reply is 8 bytes: VN 0, CD 91 "request rejected or failed", then port and IP.
            let reply: [SOCKS5HandshakeOutput] = first == 4 ? [.send([0x00, 0x5B, 0, 0, 0, 0, 0, 0])] : []
            return reply + fail(.unsupportedVersion(first))
        }
        guard buffer.count >= 2 else { return nil }
        let count = Int(buffer[1])
        guard buffer.count >= 2 + count else { return nil }
        let offered = Array(buffer[2..<(2 + count)])
        consume(2 + count)
        let method: UInt8
        if credentials != nil {
            method = offered.contains(Self.usernamePassword) ? Self.usernamePassword : Self.noAcceptableMethods
        } else if offered.contains(Self.noAuthentication) {
            method = Self.noAuthentication
        } else {
            method = offered.contains(Self.usernamePassword) ? Self.usernamePassword : Self.noAcceptableMethods
        }
        let answer = SOCKS5HandshakeOutput.send([Self.version, method])
        switch method {
        case Self.noAuthentication: stage = .request
        case Self.usernamePassword: stage = .authentication
        default: return [answer] + fail(.noAcceptableMethod(offered: offered))
        }
        return [answer]
    }

    private mutating func authentication() -> [SOCKS5HandshakeOutput]? {
        guard let first = buffer.first else { return nil }
        guard first == Self.authenticationVersion else {
            return [.send([Self.authenticationVersion, 0x01])] + fail(.unsupportedAuthenticationVersion(first))
        }
        guard buffer.count >= 2 else { return nil }
        let usernameLength = Int(buffer[1])
        guard buffer.count >= 3 + usernameLength else { return nil }
        let passwordLength = Int(buffer[2 + usernameLength])
        let total = 3 + usernameLength + passwordLength
        guard buffer.count >= total else { return nil }
        let username = Array(buffer[2..<(2 + usernameLength)])
        let password = Array(buffer[(3 + usernameLength)..<total])
        consume(total)
        if let credentials,
           username != Array(credentials.username.utf8) || password != Array(credentials.password.utf8) {
            return [.send([Self.authenticationVersion, 0x01])]
                + fail(.authenticationFailed(username: String(decoding: username, as: UTF8.self)))
        }
        stage = .request
        return [.send([Self.authenticationVersion, 0x00])]
    }

    private mutating func request() -> [SOCKS5HandshakeOutput]? {
        // VER CMD RSV ATYP DST.ADDR DST.PORT, judged byte by byte in that order.
        guard let first = buffer.first else { return nil }
        guard first == Self.version else {
            return refuse(.malformedRequest("version byte 0x\(String(first, radix: 16)) in the request, expected 0x05"))
        }
        guard buffer.count >= 2 else { return nil }
        guard buffer[1] == Self.connectCommand else { return refuse(.unsupportedCommand(buffer[1])) }
        guard buffer.count >= 4 else { return nil }
        let addressLength: Int
        switch buffer[3] {
        case 0x01: addressLength = 4
        case 0x04: addressLength = 16
        case 0x03:
            guard buffer.count >= 5 else { return nil }
            addressLength = 1 + Int(buffer[4])
            if addressLength == 1 { return refuse(.malformedRequest("an empty domain name")) }
        default: return refuse(.unsupportedAddressType(buffer[3]))
        }
        let total = 4 + addressLength + 2
        guard buffer.count >= total else { return nil }
        let addressBytes = Array(buffer[4..<(4 + addressLength)])
        let port = Int(buffer[total - 2]) << 8 | Int(buffer[total - 1])
        let address: SOCKS5Address
        switch buffer[3] {
        case 0x01: address = .ipv4(addressBytes)
        case 0x04: address = .ipv6(addressBytes)
        default:
            let name = addressBytes.dropFirst()
            // Only what a host name can hold: it becomes the flow's authority and is resolved by us.
            guard name.allSatisfy(Self.isHostNameByte) else {
                return refuse(.malformedRequest("the domain name holds bytes a host name cannot"))
            }
            address = .domainName(String(decoding: name, as: UTF8.self))
        }
        consume(total)
        guard port != 0 else { return refuse(.malformedRequest("destination port 0")) }
        stage = .connected
        return [.connect(address, port: port)]
    }

    // MARK: Helpers

    /// Letters, digits, `-`, `.` and `_` (seen in real host names though not in RFC 952).
    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F: return true
        default: return false
        }
    }

    private mutating func consume(_ count: Int) {
        buffer.removeFirst(count)
    }

    /// A request-stage failure: the reply with its code, then the end.
    private mutating func refuse(_ error: SOCKS5HandshakeError) -> [SOCKS5HandshakeOutput] {
        [.send(Self.reply(error.replyCode))] + fail(error)
    }

    private mutating func fail(_ error: SOCKS5HandshakeError) -> [SOCKS5HandshakeOutput] {
        stage = .failed
        buffer = []
        return [.failed(error)]
    }
}
