/// How many values a field holds and whether its presence is tracked.
public enum ProtoFieldCardinality: Sendable, Equatable {
    /// proto3 without a label (and oneof members): no presence beyond a non-default value.
    case singular
    /// proto2 `optional`, or proto3 `optional` (explicit presence, modelled by protoc as a synthetic oneof).
    case optional
    case repeated
    /// proto2 `required`.
    case required
}
