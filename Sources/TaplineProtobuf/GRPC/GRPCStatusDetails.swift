import TaplineWire

/// The `google.rpc.Status` a gRPC server may send in the `grpc-status-details-bin`
/// trailer (base64 of the encoded message; gRPC's error model): the status code and
/// message again, and `details`, each a `google.protobuf.Any` (e.g. `google.rpc.BadRequest`).
///
/// Decoded with `ProtobufWireReader` by field number (1: int32 code, 2: string message,
/// 3: repeated Any details); unknown fields are skipped as protobuf requires. A value
/// type, usable from any thread.
public struct GRPCStatusDetails: Equatable, Sendable {
    public let code: Int32
    public let message: String
    public let details: [ProtobufAny]

    public init(code: Int32, message: String, details: [ProtobufAny]) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// Decodes a `grpc-status-details-bin` field value (base64, padding optional).
    /// - Throws: `notBase64`, `malformed`, `invalidUTF8`.
    public init(headerValue: String) throws(GRPCStatusDetailsError) {
        guard let bytes = Base64.decode(headerValue, requirePadding: false) else { throw .notBase64 }
        try self.init(decoding: bytes)
    }

    /// Decodes an encoded `google.rpc.Status` message.
    /// - Throws: `malformed`, `invalidUTF8`.
    public init(decoding bytes: [UInt8]) throws(GRPCStatusDetailsError) {
        var reader = ProtobufWireReader(bytes)
        var code: Int32 = 0
        var message = ""
        var details: [ProtobufAny] = []
        while !reader.isAtEnd {
            let tag = try Self.reading { () throws(ProtobufWireError) in try reader.readTag() }
            switch (tag.fieldNumber, tag.wireType) {
            case (1, .varint):
                code = Int32(truncatingIfNeeded: try Self.reading { () throws(ProtobufWireError) in try reader.readVarint() })
            case (2, .lengthDelimited):
                let offset = reader.offset
                let bytes = try Self.reading { () throws(ProtobufWireError) in try reader.readLengthDelimited() }
                message = try Self.utf8String(bytes, field: "message", offset: offset)
            case (3, .lengthDelimited):
                let bytes = try Self.reading { () throws(ProtobufWireError) in try reader.readLengthDelimited() }
                details.append(try ProtobufAny(decoding: bytes, reader: reader))
            default:
                try Self.reading { () throws(ProtobufWireError) in try reader.skipValue(of: tag) }
            }
        }
        self.init(code: code, message: message, details: details)
    }

    /// The result of `read`, its wire error reported as `malformed`.
    static func reading<T>(_ read: () throws(ProtobufWireError) -> T) throws(GRPCStatusDetailsError) -> T {
        do {
            return try read()
        } catch {
            throw .malformed(error)
        }
    }

    /// `bytes` as a string, or `invalidUTF8` naming `field` (proto3 strings must be UTF-8).
    static func utf8String(_ bytes: ArraySlice<UInt8>, field: String,
                           offset: Int) throws(GRPCStatusDetailsError) -> String {
        guard UTF8Validator.isValidUTF8(bytes) else { throw .invalidUTF8(field: field, offset: offset) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
