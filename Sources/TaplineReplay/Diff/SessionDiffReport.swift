import TaplineCapture

/// What `SessionDiff` found: the paired flows with their differences, in A's
/// order, and the flows of each side that found no partner. A value type.
public struct SessionDiffReport: Sendable {
    public var comparisons: [FlowComparison]
    public var unpairedA: [CapturedFlow]
    public var unpairedB: [CapturedFlow]

    public init(comparisons: [FlowComparison], unpairedA: [CapturedFlow], unpairedB: [CapturedFlow]) {
        self.comparisons = comparisons
        self.unpairedA = unpairedA
        self.unpairedB = unpairedB
    }

    /// Every pair equal and nothing unpaired (`tapline diff` exits 0).
    public var isEqual: Bool {
        unpairedA.isEmpty && unpairedB.isEmpty && comparisons.allSatisfy(\.isEqual)
    }

    public var differentCount: Int { comparisons.count { !$0.isEqual } }
}
