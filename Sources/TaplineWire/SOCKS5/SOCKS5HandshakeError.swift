/// Why a SOCKS5 handshake was refused, worded for a flow's error and the log.
public enum SOCKS5HandshakeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The first byte is not 5 (a SOCKS4 client, or not SOCKS at all).
    case unsupportedVersion(UInt8)
    /// None of the client's methods is one we accept (no-auth, or username/password when required).
    case noAcceptableMethod(offered: [UInt8])
    /// The username/password sub-negotiation had a version other than 1.
    case unsupportedAuthenticationVersion(UInt8)
    /// Wrong username or password.
    case authenticationFailed(username: String)
    /// BIND (2), UDP ASSOCIATE (3) or an unknown command: only CONNECT (1) is served.
    case unsupportedCommand(UInt8)
    /// An ATYP other than IPv4 (1), domain name (3) or IPv6 (4).
    case unsupportedAddressType(UInt8)
    /// The request is well framed but unusable (version byte, empty name, port 0).
    case malformedRequest(String)

    public var description: String {
        switch self {
        case .unsupportedVersion(let version):
            return version == 4
                ? "the client speaks SOCKS4, Tapline's SOCKS listener speaks SOCKS5 only (use socks5:// or socks5h://)"
                : "not a SOCKS5 client (first byte 0x\(String(version, radix: 16)), expected 0x05)"
        case .noAcceptableMethod(let offered):
            let list = offered.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
            return "no acceptable SOCKS5 authentication method among the client's [\(list)]"
                + (offered.contains(0x00) ? " (--socks5-auth requires username/password, 0x02)" : "")
        case .unsupportedAuthenticationVersion(let version):
            return "SOCKS5 username/password sub-negotiation version 0x\(String(version, radix: 16)), expected 0x01"
        case .authenticationFailed(let username):
            return "SOCKS5 authentication failed for user \(username.debugDescription): wrong username or password (--socks5-auth)"
        case .unsupportedCommand(let command):
            let name = command == 2 ? "BIND" : command == 3 ? "UDP ASSOCIATE" : "command 0x\(String(command, radix: 16))"
            return "SOCKS5 \(name) is not supported, only CONNECT"
        case .unsupportedAddressType(let type):
            return "SOCKS5 address type 0x\(String(type, radix: 16)) is not supported (IPv4, IPv6 and domain names are)"
        case .malformedRequest(let reason):
            return "malformed SOCKS5 request: \(reason)"
        }
    }

    /// The reply code a request-stage failure is answered with.
    var replyCode: SOCKS5ReplyCode {
        switch self {
        case .unsupportedCommand: return .commandNotSupported
        case .unsupportedAddressType: return .addressTypeNotSupported
        default: return .generalFailure
        }
    }
}
