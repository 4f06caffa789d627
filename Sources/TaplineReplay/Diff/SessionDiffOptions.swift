import TaplineExport

/// The rules `tapline diff` compares by (its command-line options). A value type.
public struct SessionDiffOptions: Sendable {
    /// Response header and trailer rules (`--ignore-header` adds to the defaults).
    public var headers = HeaderComparison()
    /// JSON locations never compared (`--ignore-path`).
    public var ignoredPaths: [JSONPointerPattern] = []
    /// Flag pairs whose B took more than this many times A's time (`--slower-than`); nil: timing is not compared.
    public var slowerThan: Double?
    /// Most bytes of one body or message loaded for comparison; a longer one is
    /// compared by its first `bodyLimit` bytes and reported as incomplete.
    public var bodyLimit = 64 << 20
    /// How gRPC calls' messages are read (`--proto`, `--descriptor-set`; without a
    /// schema, schemaless by field number) for `GRPCCallComparison`.
    public var grpcDecoder = GRPCCallDecoder(schema: nil)

    public init() {}
}
