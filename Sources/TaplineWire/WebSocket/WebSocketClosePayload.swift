/// The payload of a close frame (RFC 6455 §5.5.1): an optional status code and a
/// UTF-8 reason (only with a code).
public struct WebSocketClosePayload: Sendable, Equatable {
    /// Nil for an empty close payload ("no status received", 1005 to the application).
    public var code: UInt16?
    public var reason: String

    public init(code: UInt16?, reason: String = "") {
        self.code = code
        self.reason = code == nil ? "" : reason
    }

    /// Parses and checks a received close payload.
    /// - Throws: `closePayloadTooShort` (1 byte), `invalidCloseCode`, `invalidCloseReason`.
    public init(parsing payload: some Collection<UInt8>) throws(WebSocketProtocolError) {
        let bytes = Array(payload)
        if bytes.isEmpty {
            self.init(code: nil)
            return
        }
        guard bytes.count >= 2 else { throw .closePayloadTooShort }
        let code = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard Self.mayBeSent(code) else { throw .invalidCloseCode(code) }
        let reason = bytes[2...]
        guard UTF8Validator.isValidUTF8(reason) else { throw .invalidCloseReason }
        self.init(code: code, reason: String(decoding: reason, as: UTF8.self))
    }

    /// The payload bytes: empty without a code, else the code big-endian and the reason.
    public var bytes: [UInt8] {
        guard let code else { return [] }
        return [UInt8(code >> 8), UInt8(truncatingIfNeeded: code)] + Array(reason.utf8)
    }

    /// Codes an endpoint may put in a close frame (RFC 6455 §7.4, IANA registry):
    /// 1000-1003, 1007-1014 and 3000-4999. 1004-1006 and 1015 are reserved for
    /// local use; the rest of 0-2999 and 5000+ are not assigned.
    public static func mayBeSent(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
