/// The REP field of a SOCKS5 reply (RFC 1928 §6).
public enum SOCKS5ReplyCode: UInt8, Sendable, Equatable {
    case succeeded = 0x00
    case generalFailure = 0x01
    case notAllowedByRuleset = 0x02
    case networkUnreachable = 0x03
    case hostUnreachable = 0x04
    case connectionRefused = 0x05
    case ttlExpired = 0x06
    case commandNotSupported = 0x07
    case addressTypeNotSupported = 0x08
}
