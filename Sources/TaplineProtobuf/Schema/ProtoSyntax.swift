/// The `syntax` (or `edition`) line of a `.proto` file; proto2 when the file has none.
public enum ProtoSyntax: Sendable, Equatable {
    case proto2
    case proto3
    /// `edition = "2023";`: parsed with proto3's rules for what Tapline models.
    case edition(String)
}
