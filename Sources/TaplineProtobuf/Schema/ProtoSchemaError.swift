/// Why a set of `.proto` files could not be loaded, parsed or resolved. Each
/// error names the place to fix (`orders.proto:12:5: ...`) when it has one.
public struct ProtoSchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The text is not valid `.proto` syntax; the message says what was expected.
        case syntax(String)
        /// A field's or method's type name resolves to nothing visible from where it is used.
        case unknownType(name: String, usedBy: String, suggestion: String?)
        /// A type name resolves to something that cannot be used there (a service as a field type, an enum as an rpc input).
        case wrongKindOfType(name: String, found: String, usedBy: String)
        /// Two fields (or enum values without `allow_alias`) of one message share a number.
        case duplicateNumber(number: Int64, name: String, previous: String)
        /// Two values of an enum without `allow_alias` share a number.
        case enumAliasNotAllowed(number: Int64, name: String, previous: String)
        /// Two definitions share a full name; `previousFile` is where the first one is, when it is another file.
        case duplicateName(String, previousFile: String?)
        /// An option given a value it cannot take (`[packed = true]` on a string, a `default` of the wrong type).
        case invalidOption(String)
        /// A field uses a number its message reserves, or one outside 1...536870911.
        case invalidNumber(String)
        /// A proto2 `group`, which Tapline does not support.
        case groupNotSupported(String)
        /// An `import` names a file found under no `--proto-path` root.
        case importNotFound(path: String, roots: [String])
        /// Two or more files import each other.
        case importCycle([String])
        /// A file named with `--proto` (or an import) that cannot be read.
        case unreadableFile(path: String, reason: String)
        /// A `--proto` file lies under none of the import roots, so it has no import name.
        case outsideProtoPath(path: String)
        /// A `--descriptor-set` file that is not a binary `google.protobuf.FileDescriptorSet`.
        case invalidDescriptorSet(path: String, reason: String)
    }

    public var kind: Kind
    /// Where the problem is; nil for problems with no position (an unreadable file named on the command line).
    public var location: ProtoSourceLocation?

    public init(_ kind: Kind, at location: ProtoSourceLocation?) {
        self.kind = kind
        self.location = location
    }

    public var description: String {
        let prefix = location.map { "\($0): " } ?? ""
        return prefix + message
    }

    private var message: String {
        switch kind {
        case .syntax(let text):
            return text
        case .unknownType(let name, let usedBy, let suggestion):
            let hint = suggestion.map { " (did you mean `\($0)`?)" } ?? ""
            return "unknown type `\(name)` in \(usedBy)\(hint)"
        case .wrongKindOfType(let name, let found, let usedBy):
            return "`\(name)` in \(usedBy) is \(found), which cannot be used there"
        case .duplicateNumber(let number, let name, let previous):
            return "number \(number) of `\(name)` is already used by `\(previous)`"
        case .enumAliasNotAllowed(let number, let name, let previous):
            return "`\(name)` = \(number) repeats the number of `\(previous)`: set `option allow_alias = true;` in the enum to allow aliases"
        case .duplicateName(let name, let previousFile):
            return "`\(name)` is already defined" + (previousFile.map { " in \($0)" } ?? "")
        case .invalidOption(let text):
            return text
        case .invalidNumber(let text):
            return text
        case .groupNotSupported(let name):
            return "proto2 group `\(name)` is not supported: declare a nested message and a field of that type instead"
        case .importNotFound(let path, let roots):
            guard !roots.isEmpty else { return "import \"\(path)\" is not among the files given" }
            return "import \"\(path)\" not found (searched \(roots.joined(separator: ", ")); add its root with --proto-path)"
        case .importCycle(let names):
            return "import cycle: " + names.joined(separator: " -> ")
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .outsideProtoPath(let path):
            return "\(path) is under none of the --proto-path roots; add the directory it is imported relative to with --proto-path"
        case .invalidDescriptorSet(let path, let reason):
            return "\(path) is not a binary FileDescriptorSet (as protoc -o or buf build write): \(reason)"
        }
    }
}
