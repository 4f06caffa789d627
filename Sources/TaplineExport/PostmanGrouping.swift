/// How `tapline export --postman` arranges requests in folders (`--group-by`).
public enum PostmanGrouping: String, Sendable, CaseIterable {
    /// A folder per host, inside it a folder per first path segment.
    case host
    /// A folder per first path segment, hosts mixed.
    case path
    /// No folders.
    case none
}
