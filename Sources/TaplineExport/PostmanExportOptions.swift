/// What `tapline export --postman` should produce. A value type.
public struct PostmanExportOptions: Sendable {
    /// The collection's name (default: made from the session ids).
    public var name: String?
    public var grouping: PostmanGrouping = .host
    /// Replace secrets with `{{variables}}` (off with `--keep-secrets`).
    public var redact = true
    public var rules = RedactionRules()
    /// Keep images, fonts, CSS and JavaScript (`--include-static`).
    public var includeStatic = false
    /// Where binary request bodies go, relative to the collection (e.g. `api.files`);
    /// nil (`--no-binary`) leaves them out with a note.
    public var binaryDirectory: String?
    /// Most bytes of one body read and decoded.
    public var bodyLimit = 16 << 20
    /// Positions with this many distinct values from sibling requests become variables (`EndpointNormalizer`).
    public var cardinalityThreshold = 6

    public init() {}
}
