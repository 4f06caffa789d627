/// Which flows of A and B were paired, by index into each side's flow list. A value type.
///
/// Invariants: every index of each side appears exactly once, either in `pairs`
/// or in its `unpaired` list; `pairs` is in A's order, the unpaired lists ascending.
public struct FlowPairs: Sendable, Equatable {
    public var pairs: [(a: Int, b: Int)]
    public var unpairedA: [Int]
    public var unpairedB: [Int]

    public init(pairs: [(a: Int, b: Int)], unpairedA: [Int], unpairedB: [Int]) {
        self.pairs = pairs
        self.unpairedA = unpairedA
        self.unpairedB = unpairedB
    }

    public static func == (lhs: FlowPairs, rhs: FlowPairs) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.a == $1.a && $0.b == $1.b }
            && lhs.unpairedA == rhs.unpairedA && lhs.unpairedB == rhs.unpairedB
    }
}
