import TaplineProtobuf

/// What a server's reflection gave: its files and the schema they make.
///
/// Immutable.
public struct ServerReflectionResult: Sendable {
    /// Every file received (and any built-in well-known file the server could not give), in dependency order.
    public let schema: ProtoSchema
    /// The files that define what was asked for: the listed services' files, or the symbol's file.
    public let rootFiles: [String]
    /// The services the server listed (empty for a `.symbol` query).
    public let services: [String]
    /// Listed services the server gave no descriptor for (`NOT_FOUND`; grpc-python's reflection
    /// lists itself but, with a custom descriptor pool, lacks its file): left out of `schema`.
    public let servicesWithoutDescriptors: [String]
    /// The reflection version that answered.
    public let version: ServerReflectionVersion
}
