import TaplineWire

/// What a captured gRPC message holds, as far as it could be read from the stored bytes.
public enum GRPCMessageContent: Sendable, Equatable {
    /// Decoded with the schema as `typeName`: its proto3 JSON form.
    case decoded(JSONValue, typeName: String)
    /// Decoded without a schema: field numbers as keys (`RawProtobufJSON`), like
    /// `protoc --decode_raw`; `reason` says why the schema was not used.
    case raw(JSONValue, reason: String)
    /// A `+json` call's message: the JSON text the peers sent.
    case json(JSONValue)
    /// The bytes could not be turned into a message; `reason` says why (an encoding
    /// Tapline does not undo, bytes that are not the schema's type, ...).
    case notDecoded(reason: String)
    /// Only `storedBytes` of the `declaredBytes` payload were captured (`--max-body-capture`,
    /// or the body ended inside the message); `declaredBytes` is nil when the body ended
    /// inside the 5-byte prefix that declares it.
    case incomplete(storedBytes: Int, declaredBytes: Int?)

    /// The message as JSON, when it has one.
    public var json: JSONValue? {
        switch self {
        case .decoded(let value, _), .raw(let value, _), .json(let value): value
        case .notDecoded, .incomplete: nil
        }
    }
}
