import TaplineCapture
import TaplineWire

/// The flow filter shared by `tapline show --filter` and `tapline export --filter`
/// (grammar in docs/filters.md).
///
/// An expression is terms separated by spaces, all of which must match (AND).
/// A term is `field:value[,value...]` (any value may match: OR), optionally
/// negated with a leading `!`. Fields: `host`, `method`, `path`, `status`,
/// `type`, `proto`, `flow`, `kind`, `url`; plus the bare words `static` and
/// `error`. Globs (`host`, `path`, `url`, `type`): `*` matches within a path
/// segment or host label, `**` across, `?` one character; comparisons are
/// case-insensitive except for `path`. A value type; parsing validates
/// everything, so matching never fails.
public struct FlowFilter: Sendable {
    enum Field: String, Sendable, CaseIterable {
        case host, method, path, status, type, proto, flow, kind, url
    }

    struct Term: Sendable {
        var negated: Bool
        var field: Field?
        /// For fields: the alternatives. For bare words: the word.
        var values: [String]
    }

    private let terms: [Term]
    /// The expression as given.
    public let text: String

    /// Matches everything.
    public static let all = FlowFilter(terms: [], text: "")

    private init(terms: [Term], text: String) {
        self.terms = terms
        self.text = text
    }

    public var isEmpty: Bool { terms.isEmpty }

    /// Parses `expressions` (each one or more terms; several are ANDed).
    public static func parse(_ expressions: [String]) throws(FlowFilterError) -> FlowFilter {
        var terms: [Term] = []
        for expression in expressions {
            for word in expression.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                terms.append(try parseTerm(String(word)))
            }
        }
        return FlowFilter(terms: terms, text: expressions.joined(separator: " "))
    }

    public static func parse(_ expression: String) throws(FlowFilterError) -> FlowFilter {
        try parse([expression])
    }

    private static func parseTerm(_ word: String) throws(FlowFilterError) -> Term {
        var body = word[...]
        var negated = false
        if body.hasPrefix("!") {
            negated = true
            body = body.dropFirst()
        }
        guard let colon = body.firstIndex(of: ":") else {
            let bare = body.lowercased()
            guard bare == "static" || bare == "error" else {
                throw FlowFilterError(term: word, reason: "expected field:value (fields: \(Field.allCases.map(\.rawValue).joined(separator: ", "))) or the words static, error")
            }
            return Term(negated: negated, field: nil, values: [bare])
        }
        let name = body[..<colon].lowercased()
        guard let field = Field(rawValue: name == "id" ? "flow" : name == "content-type" ? "type" : name == "protocol" ? "proto" : name) else {
            throw FlowFilterError(term: word, reason: "unknown field \(name.debugDescription) (fields: \(Field.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let values = body[body.index(after: colon)...].split(separator: ",").map(String.init)
        guard !values.isEmpty else { throw FlowFilterError(term: word, reason: "no value after \(name):") }
        for value in values {
            switch field {
            case .status:
                guard parseStatus(value) != nil else {
                    throw FlowFilterError(term: word, reason: "status takes a code (404), a class (4xx) or a range (400-499), not \(value.debugDescription)")
                }
            case .flow:
                guard parseRange(value) != nil else {
                    throw FlowFilterError(term: word, reason: "flow takes ids (7) or ranges (3-9), not \(value.debugDescription)")
                }
            case .proto:
                guard protocols.contains(value.lowercased()) else {
                    throw FlowFilterError(term: word, reason: "proto takes one of \(protocols.sorted().joined(separator: ", "))")
                }
            case .kind:
                guard ["http", "websocket", "tunnel", "tls-failed"].contains(value.lowercased()) else {
                    throw FlowFilterError(term: word, reason: "kind takes http, websocket, tunnel or tls-failed")
                }
            default:
                break
            }
        }
        return Term(negated: negated, field: field, values: values)
    }

    static let protocols: Set<String> = ["http", "https", "http1", "h1", "http/1.0", "http/1.1", "http2", "h2", "http/2",
                                         "websocket", "ws", "wss", "grpc", "tunnel"]

    static func parseStatus(_ text: String) -> ClosedRange<Int>? {
        let lower = text.lowercased()
        if lower.count == 3, lower.hasSuffix("xx"), let digit = Int(lower.prefix(1)), (1...5).contains(digit) {
            return digit * 100...digit * 100 + 99
        }
        return parseRange(text).flatMap { range in
            range.upperBound < 1000 ? Int(range.lowerBound)...Int(range.upperBound) : nil
        }
    }

    static func parseRange(_ text: String) -> ClosedRange<UInt64>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 1, let value = UInt64(parts[0]) { return value...value }
        if parts.count == 2, let low = UInt64(parts[0]), let high = UInt64(parts[1]), low <= high { return low...high }
        return nil
    }

    /// True when `flow` satisfies every term.
    public func matches(_ flow: CapturedFlow) -> Bool {
        terms.allSatisfy { term in term.negated != matches(term, flow) }
    }

    private func matches(_ term: Term, _ flow: CapturedFlow) -> Bool {
        guard let field = term.field else {
            return term.values.first == "static" ? StaticAssetRule.isStatic(flow) : flow.error != nil
        }
        let url = RequestURL(flow: flow)
        return term.values.contains { value in
            switch field {
            case .host:
                let host = url?.host ?? String(flow.authority.split(separator: ":").first ?? "")
                return Glob.matches(value.lowercased(), host, separator: ".")
                    || Glob.matches(value.lowercased(), url?.authority ?? flow.authority.lowercased(), separator: ".")
            case .method:
                return flow.request?.method.uppercased() == value.uppercased()
            case .path:
                return Glob.matches(value, url?.path ?? "", separator: "/")
            case .url:
                return Glob.matches(value.lowercased(), (url?.absolute ?? flow.url).lowercased(), separator: "/")
                    || (!value.contains("*") && (url?.absolute ?? flow.url).lowercased().contains(value.lowercased()))
            case .status:
                guard let status = flow.response?.status, let range = Self.parseStatus(value) else { return false }
                return range.contains(status)
            case .type:
                guard let type = MediaType(flow.response?.headers.first(name: "Content-Type")) else { return false }
                let wanted = value.lowercased()
                return wanted.contains("/") ? Glob.matches(wanted, type.essence, separator: "/") : type.essence.contains(wanted)
            case .flow:
                return Self.parseRange(value)?.contains(flow.id.rawValue) ?? false
            case .kind:
                return flow.kind.rawValue == value.lowercased()
            case .proto:
                return matchesProtocol(value.lowercased(), flow)
            }
        }
    }

    private func matchesProtocol(_ name: String, _ flow: CapturedFlow) -> Bool {
        let version = flow.request?.version
        switch name {
        case "http": return flow.scheme == "http" && flow.kind != .tunnel
        case "https": return flow.scheme == "https"
        case "http1", "h1", "http/1.1", "http/1.0": return version.map { $0.major == 1 } ?? false
        case "http2", "h2", "http/2": return version.map { $0.major == 2 } ?? false
        case "websocket", "ws": return flow.kind == .websocket
        case "wss": return flow.kind == .websocket && flow.scheme == "https"
        case "grpc": return MediaType(flow.request?.headers.first(name: "Content-Type"))?.essence.hasPrefix("application/grpc") ?? false
        case "tunnel": return flow.kind == .tunnel
        default: return false
        }
    }
}
