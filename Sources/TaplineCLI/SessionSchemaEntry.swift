/// One line of a session's `schemas/index.json`: a descriptor set kept in the session
/// and where it came from (docs/capture-format.md, "Schemas"). A value type.
struct SessionSchemaEntry: Codable, Equatable {
    enum Source: String, Codable {
        /// `proxy --reflect`: what an upstream's server reflection gave.
        case reflection
        /// `proxy --proto` / `--descriptor-set`: the schema given at start-up.
        case files
    }

    /// The descriptor set's file name inside `schemas/` (`reflected-1.binpb`, `given.binpb`).
    var file: String
    var source: Source
    /// `reflection`: the upstream asked, as the proxy reached it (`h2c://127.0.0.1:50051`).
    var upstream: String?
    /// `files`: the paths given, as the user wrote them.
    var paths: [String]?
    /// The services the set defines (fully qualified).
    var services: [String]
}
