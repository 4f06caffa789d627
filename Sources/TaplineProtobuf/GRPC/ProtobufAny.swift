/// A `google.protobuf.Any` as it travels: the type URL naming the message type
/// (`type.googleapis.com/google.rpc.BadRequest`) and that message's encoded bytes.
/// Decoding the bytes needs the schema of that type (the later schema work); without
/// it they can be shown raw (`RawProtobufMessage`).
public struct ProtobufAny: Equatable, Sendable {
    public let typeURL: String
    public let value: [UInt8]

    public init(typeURL: String, value: [UInt8]) {
        self.typeURL = typeURL
        self.value = value
    }

    /// The full message type name: the type URL after its last `/`.
    public var typeName: Substring {
        typeURL.lastIndex(of: "/").map { typeURL[typeURL.index(after: $0)...] } ?? typeURL[...]
    }

    /// Decodes the fields of an `Any` message (1: type_url, 2: value); unknown fields are skipped.
    /// - Throws: `GRPCStatusDetailsError.malformed` for bad wire format, `invalidUTF8` for a type URL that is not UTF-8.
    init(decoding bytes: ArraySlice<UInt8>, reader outer: ProtobufWireReader) throws(GRPCStatusDetailsError) {
        var reader = outer.nestedReader(for: bytes)
        var typeURL = ""
        var value: [UInt8] = []
        while !reader.isAtEnd {
            let tag = try GRPCStatusDetails.reading { () throws(ProtobufWireError) in try reader.readTag() }
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .lengthDelimited):
                let offset = reader.offset
                let bytes = try GRPCStatusDetails.reading { () throws(ProtobufWireError) in try reader.readLengthDelimited() }
                typeURL = try GRPCStatusDetails.utf8String(bytes, field: "type_url", offset: offset)
            case (2, .lengthDelimited):
                value = Array(try GRPCStatusDetails.reading { () throws(ProtobufWireError) in try reader.readLengthDelimited() })
            default:
                try GRPCStatusDetails.reading { () throws(ProtobufWireError) in try reader.skipValue(of: tag) }
            }
        }
        self.init(typeURL: typeURL, value: value)
    }
}
