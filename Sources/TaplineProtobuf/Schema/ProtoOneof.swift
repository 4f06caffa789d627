/// A `oneof` of a message. Synthetic oneofs (one per proto3 `optional` field, named
/// `_field`) follow the real ones, as protoc orders them.
public struct ProtoOneof: Sendable, Equatable {
    public var name: String
    public var isSynthetic: Bool

    public init(name: String, isSynthetic: Bool) {
        self.name = name
        self.isSynthetic = isSynthetic
    }
}
