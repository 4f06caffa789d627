/// How one named field differs between A and B: a header or trailer field
/// (`name` lowercased) or a form parameter. The values only A has and the values
/// only B has, each a multiset (a value sent twice by A and once by B leaves one
/// in `removed`). A value type.
public struct FieldDifference: Sendable, Equatable {
    public var name: String
    /// Values A has and B does not, in A's order.
    public var removed: [String]
    /// Values B has and A does not, in B's order.
    public var added: [String]

    public init(name: String, removed: [String], added: [String]) {
        self.name = name
        self.removed = removed
        self.added = added
    }

    /// The differences between two lists of named values taken as multisets, ordered by name.
    static func multisetDifferences(_ a: [(name: String, value: String)], _ b: [(name: String, value: String)]) -> [FieldDifference] {
        var left: [String: [String]] = [:]
        var right: [String: [String]] = [:]
        for (name, value) in a { left[name, default: []].append(value) }
        for (name, value) in b { right[name, default: []].append(value) }
        var result: [FieldDifference] = []
        for name in Set(left.keys).union(right.keys).sorted() {
            var onlyRight = right[name] ?? []
            var onlyLeft: [String] = []
            for value in left[name] ?? [] {
                if let index = onlyRight.firstIndex(of: value) {
                    onlyRight.remove(at: index)
                } else {
                    onlyLeft.append(value)
                }
            }
            if !onlyLeft.isEmpty || !onlyRight.isEmpty {
                result.append(FieldDifference(name: name, removed: onlyLeft, added: onlyRight))
            }
        }
        return result
    }
}
