/// One `import` line of a `.proto` file.
public struct ProtoImport: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case normal
        /// `import public`: the imported file's types are visible to whoever imports this file.
        case `public`
        /// `import weak`: recorded as protoc does; loaded like a normal import.
        case weak
    }

    /// The import name as written, e.g. `google/protobuf/timestamp.proto`.
    public var path: String
    public var kind: Kind
    /// Where the `import` keyword is.
    public var location: ProtoSourceLocation
}
