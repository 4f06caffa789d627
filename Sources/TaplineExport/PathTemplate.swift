/// An endpoint's path with its variable parts named: `/users/:userId/orders/:orderId`.
///
/// Invariants: `segments` has one entry per path segment; a variable's name is
/// an identifier (`[A-Za-z][A-Za-z0-9]*`) unique within the template.
public struct PathTemplate: Sendable, Hashable {
    public enum Segment: Sendable, Hashable {
        case literal(String)
        case variable(name: String, kind: PathSegmentKind)

        public var isVariable: Bool {
            if case .variable = self { return true }
            return false
        }
    }

    public var segments: [Segment]

    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// `/users/:userId` (Postman's path-variable syntax).
    public var text: String {
        "/" + pathComponents.joined(separator: "/")
    }

    /// Segments as Postman's `url.path` array: literals as they are, variables as `:name`.
    public var pathComponents: [String] {
        segments.map {
            switch $0 {
            case .literal(let text): return text
            case .variable(let name, _): return ":" + name
            }
        }
    }

    /// The names of the variables, in path order.
    public var variableNames: [String] {
        segments.compactMap {
            if case .variable(let name, _) = $0 { return name }
            return nil
        }
    }
}
