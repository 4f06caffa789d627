/// Decodes protobuf wire format with a schema: bytes and a message type from a
/// `ProtoSchema` in, a `ProtobufMessageValue` out (protobuf's encoding guide).
///
/// - Fields by descriptor; a repeated packable field is accepted packed and unpacked (and
///   mixed), as parsers must. A second occurrence of a singular message field merges into
///   the first; of another singular field, replaces it. Setting a oneof member clears the others.
/// - Enum numbers the enum does not declare are kept as numbers.
/// - Fields the descriptor does not declare are kept, by number, with their raw values
///   (`RawProtobufMessage`'s decoding, without trying embedded messages).
/// - Errors (`ProtobufDecodingError`): malformed wire format, a declared field with a wire
///   type its type cannot have, a `string` that is not UTF-8, nesting beyond `maxDepth`.
///
/// Immutable; safe to share between threads. Recursion is bounded by `maxDepth`.
public struct ProtobufMessageDecoder: Sendable {
    /// protobuf's default recursion limit.
    public static let defaultMaxDepth = 100

    public let schema: ProtoSchema
    public let maxDepth: Int

    public init(schema: ProtoSchema, maxDepth: Int = defaultMaxDepth) {
        self.schema = schema
        self.maxDepth = maxDepth
    }

    /// Decodes `bytes` wholly as a message of type `typeName` (full name).
    public func decode(_ bytes: ArraySlice<UInt8>, as typeName: String) throws(ProtobufDecodingError) -> ProtobufMessageValue {
        let name = typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName
        guard let descriptor = schema.message(named: name) else {
            throw ProtobufDecodingError(.unknownType(name), offset: 0)
        }
        var value = ProtobufMessageValue(typeName: descriptor.fullName)
        var reader = ProtobufWireReader(bytes)
        try merge(&reader, into: &value, descriptor: descriptor, path: "", depth: 0)
        return value
    }

    public func decode(_ bytes: [UInt8], as typeName: String) throws(ProtobufDecodingError) -> ProtobufMessageValue {
        try decode(bytes[...], as: typeName)
    }

    /// Reads fields to the end of `reader` into `value` (protobuf's merge semantics).
    private func merge(_ reader: inout ProtobufWireReader, into value: inout ProtobufMessageValue,
                       descriptor: ProtoMessage, path: String, depth: Int) throws(ProtobufDecodingError) {
        while !reader.isAtEnd {
            let tag = try wire { () throws(ProtobufWireError) in try reader.readTag() }
            let tagOffset = reader.lastTagOffset
            guard let field = descriptor.field(number: Int64(tag.fieldNumber)) else {
                let start = reader.origin + tagOffset
                try wire { () throws(ProtobufWireError) in try reader.skipValue(of: tag) }
                let raw = try wire { () throws(ProtobufWireError) in
                    try RawProtobufMessage(decoding: reader.bytes[start..<reader.index], maxDepth: 0)
                }
                value.unknownFields += raw.fields
                continue
            }
            let fieldPath = path.isEmpty ? field.name : path + "." + field.name
            if field.cardinality == .repeated, field.type.isPackable, tag.wireType == .lengthDelimited {
                let packed = try wire { () throws(ProtobufWireError) in try reader.readLengthDelimited() }
                var elements = reader.nestedReader(for: packed)
                var values: [ProtobufValue] = []
                while !elements.isAtEnd {
                    values.append(try scalar(of: field, from: &elements, path: fieldPath))
                }
                value.fields[field.number, default: []] += values
                continue
            }
            guard tag.wireType == Self.wireType(of: field.type) else {
                throw ProtobufDecodingError(.wrongWireType(field: fieldPath, fieldType: field.type.name, got: tag.wireType),
                                            offset: tagOffset)
            }
            let element: ProtobufValue
            if case .message(let typeName) = field.type {
                let elementPath = field.cardinality == .repeated
                    ? fieldPath + "[\(value.fields[field.number]?.count ?? 0)]" : fieldPath
                let bytes = try wire { () throws(ProtobufWireError) in try reader.readLengthDelimited() }
                guard depth + 1 < maxDepth else {
                    throw ProtobufDecodingError(.nestingTooDeep(limit: maxDepth), offset: tagOffset)
                }
                guard let nestedDescriptor = schema.message(named: typeName) else {
                    throw ProtobufDecodingError(.unknownType(typeName), offset: tagOffset)
                }
                var nested = ProtobufMessageValue(typeName: typeName)
                if field.cardinality != .repeated, case .message(let existing)? = value[field.number] { nested = existing }
                var nestedReader = reader.nestedReader(for: bytes)
                try merge(&nestedReader, into: &nested, descriptor: nestedDescriptor, path: elementPath, depth: depth + 1)
                element = .message(nested)
            } else {
                element = try scalar(of: field, from: &reader, path: fieldPath)
            }
            if field.cardinality == .repeated {
                value.fields[field.number, default: []].append(element)
            } else {
                if let oneof = field.oneofIndex, !descriptor.oneofs[oneof].isSynthetic {
                    for sibling in descriptor.fields where sibling.oneofIndex == oneof { value.fields[sibling.number] = nil }
                }
                value.fields[field.number] = [element]
            }
        }
    }

    /// Reads one value of a non-message field.
    private func scalar(of field: ProtoField, from reader: inout ProtobufWireReader,
                        path: String) throws(ProtobufDecodingError) -> ProtobufValue {
        if case .string = field.type {
            let start = reader.offset
            let bytes = try wire { () throws(ProtobufWireError) in try reader.readLengthDelimited() }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw ProtobufDecodingError(.invalidUTF8(field: path), offset: start)
            }
            return .string(text)
        }
        return try wire { () throws(ProtobufWireError) -> ProtobufValue in
            switch field.type {
            case .int64: return .signed(Int64(bitPattern: try reader.readVarint()))
            case .int32: return .signed(Int64(Int32(truncatingIfNeeded: try reader.readVarint())))
            case .sint64: return .signed(ProtobufZigZag.decode(try reader.readVarint()))
            case .sint32: return .signed(Int64(ProtobufZigZag.decode(UInt32(truncatingIfNeeded: try reader.readVarint()))))
            case .sfixed64: return .signed(Int64(bitPattern: try reader.readFixed64()))
            case .sfixed32: return .signed(Int64(Int32(bitPattern: try reader.readFixed32())))
            case .uint64: return .unsigned(try reader.readVarint())
            case .uint32: return .unsigned(UInt64(UInt32(truncatingIfNeeded: try reader.readVarint())))
            case .fixed64: return .unsigned(try reader.readFixed64())
            case .fixed32: return .unsigned(UInt64(try reader.readFixed32()))
            case .double: return .double(Double(bitPattern: try reader.readFixed64()))
            case .float: return .float(Float(bitPattern: try reader.readFixed32()))
            case .bool: return .bool(try reader.readVarint() != 0)
            case .enum: return .enumNumber(Int32(truncatingIfNeeded: try reader.readVarint()))
            case .bytes: return .bytes(Array(try reader.readLengthDelimited()))
            case .string, .message, .named:
                preconditionFailure("strings are read above, messages by merge; a schema has no unresolved names")
            }
        }
    }

    /// The wire type a value of `type` has (packed repeated fields aside).
    static func wireType(of type: ProtoFieldType) -> ProtobufWireType {
        switch type {
        case .int64, .uint64, .int32, .uint32, .sint32, .sint64, .bool, .enum: .varint
        case .fixed64, .sfixed64, .double: .fixed64
        case .fixed32, .sfixed32, .float: .fixed32
        case .string, .bytes, .message, .named: .lengthDelimited
        }
    }

    /// Runs a wire read, wrapping its error.
    private func wire<Result>(_ body: () throws(ProtobufWireError) -> Result) throws(ProtobufDecodingError) -> Result {
        do {
            return try body()
        } catch {
            throw ProtobufDecodingError(.wire(error), offset: error.offset)
        }
    }
}
