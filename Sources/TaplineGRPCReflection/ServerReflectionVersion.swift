/// Which server reflection service a conversation speaks: `v1` first, `v1alpha` when the
/// server answers `v1` with UNIMPLEMENTED (servers built before v1 existed serve only
/// v1alpha). The messages are the same; only the method path differs.
public enum ServerReflectionVersion: String, Sendable, CaseIterable {
    case v1
    case v1alpha

    /// The `:path` of the bidi method.
    public var methodPath: String { "/grpc.reflection.\(rawValue).ServerReflection/ServerReflectionInfo" }

    /// The version to try when this one is UNIMPLEMENTED, or nil when none is left.
    var fallback: ServerReflectionVersion? { self == .v1 ? .v1alpha : nil }
}
