/// A field of a message, as protoc's `FieldDescriptorProto` describes it.
public struct ProtoField: Sendable, Equatable {
    public var name: String
    public var number: Int64
    /// The proto3 JSON name: `json_name` if given, else the name in lowerCamelCase as protoc computes it.
    public var jsonName: String
    /// Whether `json_name` was given explicitly.
    public var hasExplicitJSONName: Bool
    public var cardinality: ProtoFieldCardinality
    /// True for a proto3 `optional` field (its presence is a synthetic oneof named `_name`).
    public var isProto3Optional: Bool
    public var type: ProtoFieldType
    /// Index into the message's `oneofs` (real or synthetic), if the field belongs to one.
    public var oneofIndex: Int?
    /// `[packed = ...]` as written; nil when not given.
    public var packedOption: Bool?
    /// Whether a repeated field is encoded packed: `packed` if given, else packed by
    /// default in proto3 for packable types. Set by `ProtoSchema` once the type is known.
    public var isPacked: Bool
    /// The proto2 `[default = ...]` in protoc's text form: decimal for integers, `inf`/`nan`
    /// and shortest round-trip for floats, the text for strings, C escapes for bytes, the value name for enums.
    public var defaultValue: String?
    /// `[deprecated = ...]` as written; nil when not given.
    public var deprecated: Bool?
    /// Where the field's name is.
    public var location: ProtoSourceLocation
    /// Where its type name is (for errors about the type).
    public var typeLocation: ProtoSourceLocation

    /// Whether the field's presence is known apart from its value (protobuf's "explicit
    /// presence"): message fields, proto2 `optional`/`required`, proto3 `optional`, oneof
    /// members. Other singular fields are absent exactly when they hold their zero value,
    /// so serializers and the JSON mapping leave them out then.
    public var tracksPresence: Bool {
        if case .message = type { return true }
        return cardinality == .optional || cardinality == .required || oneofIndex != nil
    }

    /// protoc's default JSON name: underscores dropped, each letter after one upper-cased (`foo_bar` → `fooBar`).
    public static func defaultJSONName(for name: String) -> String {
        camelCased(name, capitalizingFirst: false)
    }

    /// `name` without underscores, each ASCII letter after one upper-cased (and the first
    /// too when `capitalizingFirst`), as protoc derives JSON names and map entry names.
    static func camelCased(_ name: String, capitalizingFirst: Bool) -> String {
        var result = ""
        var capitalizeNext = capitalizingFirst
        for character in name {
            if character == "_" {
                capitalizeNext = true
            } else if capitalizeNext {
                result += character.isASCII ? character.uppercased() : String(character)
                capitalizeNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }
}
