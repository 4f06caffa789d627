import TaplineExport

/// What makes two recorded requests "the same request" for pairing: method,
/// path, query parameters as a set (order and repeats ignored) and the request
/// body's digest (`RequestBodyDigest`: forms by their fields, JSON without
/// whitespace). `path` is the raw path; `template` replaces the segments that
/// look like identifiers (`PathSegmentKind`: numbers, UUIDs, dates, tokens...) with their kind (`/users/42` -> `/users/:number`), so a request for another
/// id still finds its partner. A value type.
public struct RequestKey: Sendable, Hashable {
    /// The fields one pairing pass matches on.
    struct Match: Hashable {
        var method: String
        var path: String
        var query: [String]
        var body: String
    }

    public var method: String
    public var path: String
    public var template: String
    /// `name=value` pairs, decoded, sorted, without repeats.
    public var query: [String]
    /// `RequestBodyDigest` of the decoded request body ("" when there is none).
    public var bodyDigest: String

    public init(method: String, path: String, query: [String], bodyDigest: String) {
        self.method = method
        self.path = path
        self.query = Array(Set(query)).sorted()
        self.bodyDigest = bodyDigest
        template = Self.template(path)
    }

    /// `/users/42/orders` -> `/users/:number/orders`.
    static func template(_ path: String) -> String {
        let segments = RequestURL.segments(ofPath: path)
        guard !segments.isEmpty else { return path }
        var template = ""
        for segment in segments {
            template += "/"
            let kind = PathSegmentKind.classify(segment)
            if kind.isVariable {
                template += ":" + kind.rawValue
            } else {
                template += segment
            }
        }
        return template
    }

    var exactMatch: Match { Match(method: method, path: path, query: query, body: bodyDigest) }
    var templateMatch: Match { Match(method: method, path: template, query: query, body: bodyDigest) }
}
