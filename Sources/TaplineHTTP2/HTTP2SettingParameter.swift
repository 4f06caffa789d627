/// One parameter of a SETTINGS frame as a peer sent it (RFC 9113 §6.5.1).
public struct HTTP2SettingParameter: Sendable, Equatable {
    /// The identifier, e.g. 0x4 SETTINGS_INITIAL_WINDOW_SIZE.
    public var identifier: UInt16
    public var value: UInt32

    public init(identifier: UInt16, value: UInt32) {
        self.identifier = identifier
        self.value = value
    }
}
