/// One HTTP/2 SETTINGS parameter as sent (RFC 9113 §6.5.1).
public struct HTTP2Setting: Sendable, Equatable {
    /// The setting identifier, e.g. 0x3 SETTINGS_MAX_CONCURRENT_STREAMS.
    public var identifier: UInt16
    public var value: UInt32

    public init(identifier: UInt16, value: UInt32) {
        self.identifier = identifier
        self.value = value
    }
}
