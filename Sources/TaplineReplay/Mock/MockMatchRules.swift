/// What `tapline mock` compares between a live request and a recorded one, beyond
/// method, path, query and body: `--match-header NAME` (repeatable), and what it
/// leaves out: `--ignore-query NAME`, `--ignore-body-path /pointer` (wildcards as in
/// `tapline diff --ignore-path`). A value type.
public struct MockMatchRules: Sendable {
    /// Header names whose values must be equal (compared case-insensitively by name;
    /// repeated fields joined with ", ").
    public var matchedHeaders: [String] = []
    /// Query parameter names left out of the comparison (exact, case-sensitive).
    public var ignoredQueryNames: Set<String> = []
    /// JSON body locations left out of the comparison.
    public var ignoredBodyPaths: [JSONPointerPattern] = []

    public init(matchedHeaders: [String] = [], ignoredQueryNames: Set<String> = [],
                ignoredBodyPaths: [JSONPointerPattern] = []) {
        self.matchedHeaders = matchedHeaders
        self.ignoredQueryNames = ignoredQueryNames
        self.ignoredBodyPaths = ignoredBodyPaths
    }
}
