/// The google/protobuf well-known types whose proto3 JSON form is not an object of their
/// fields (protobuf's JSON mapping table). Field numbers are those of the built-in files.
enum ProtobufWellKnownType: Sendable, Equatable {
    case any, timestamp, duration, fieldMask, `struct`, value, listValue
    /// `google.protobuf.DoubleValue` ... `BytesValue`: the JSON of their one field, `value` = 1.
    case wrapper

    init?(fullName: String) {
        switch fullName {
        case "google.protobuf.Any": self = .any
        case "google.protobuf.Timestamp": self = .timestamp
        case "google.protobuf.Duration": self = .duration
        case "google.protobuf.FieldMask": self = .fieldMask
        case "google.protobuf.Struct": self = .struct
        case "google.protobuf.Value": self = .value
        case "google.protobuf.ListValue": self = .listValue
        case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
             "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
             "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
            self = .wrapper
        default: return nil
        }
    }

    /// The enum whose values are JSON `null`.
    static let nullValueEnum = "google.protobuf.NullValue"
}
