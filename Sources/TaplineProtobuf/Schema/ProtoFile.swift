/// One parsed `.proto` file, as protoc's `FileDescriptorProto` describes it (for the
/// parts Tapline models: options other than `deprecated` are parsed and dropped,
/// `extend` blocks are parsed and skipped).
public struct ProtoFile: Sendable, Equatable {
    /// The import name: the path relative to its `--proto-path` root, e.g. `shop/v1/orders.proto`.
    public var name: String
    public var syntax: ProtoSyntax = .proto2
    /// The package, dot-separated; empty when the file declares none.
    public var package: String = ""
    public var imports: [ProtoImport] = []
    public var messages: [ProtoMessage] = []
    public var enums: [ProtoEnum] = []
    public var services: [ProtoService] = []
    /// `option deprecated = ...;` as written; nil when not given.
    public var deprecated: Bool?
    /// The types the file's `extend` blocks name, as written (their fields are skipped).
    public var extendedTypes: [String] = []

    public init(name: String) {
        self.name = name
    }

    /// The import names this file depends on, in order (protoc's `dependency`).
    public var dependencies: [String] { imports.map(\.path) }
}
