/// The text of the google/protobuf well-known types' `.proto` files, built in so that
/// `import "google/protobuf/timestamp.proto"` works with no `--proto-path`
/// (copied verbatim from Debian's libprotobuf-dev 3.21.12; README.md in this folder).
/// `descriptor.proto` is included for files that declare custom options.
public enum WellKnownProtoFiles {
    /// Import name → file text.
    public static let byImportName: [String: String] = [
        "google/protobuf/any.proto": any,
        "google/protobuf/duration.proto": duration,
        "google/protobuf/timestamp.proto": timestamp,
        "google/protobuf/struct.proto": `struct`,
        "google/protobuf/wrappers.proto": wrappers,
        "google/protobuf/field_mask.proto": fieldMask,
        "google/protobuf/empty.proto": empty,
        "google/protobuf/descriptor.proto": descriptor,
    ]
}
