/// An enum type, as protoc's `EnumDescriptorProto` describes it.
public struct ProtoEnum: Sendable, Equatable {
    public struct Value: Sendable, Equatable {
        public var name: String
        public var number: Int64
        /// `[deprecated = ...]` as written; nil when not given.
        public var deprecated: Bool?
        public var location: ProtoSourceLocation
    }

    public var name: String
    /// Package and enclosing messages, dot-separated, no leading dot.
    public var fullName: String
    public var values: [Value] = []
    /// `option allow_alias = ...;` as written; nil when not given.
    public var allowAlias: Bool?
    public var deprecated: Bool?
    public var reservedRanges: [ProtoNumberRange] = []
    public var reservedNames: [String] = []
    public var location: ProtoSourceLocation

    public init(name: String, fullName: String, location: ProtoSourceLocation) {
        self.name = name
        self.fullName = fullName
        self.location = location
    }

    /// The first value with this number (with aliases, the one declared first).
    public func value(number: Int64) -> Value? { values.first { $0.number == number } }
}
