/// One field of a `RawProtobufMessage`, in the order it was on the wire.
public struct RawProtobufField: Equatable, Sendable {
    /// 1 ... 2^29 - 1.
    public let number: UInt32
    public let value: RawProtobufValue

    public init(number: UInt32, value: RawProtobufValue) {
        self.number = number
        self.value = value
    }
}
