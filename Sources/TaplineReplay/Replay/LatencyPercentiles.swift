/// p50, p90 and p99 of a set of durations (nearest rank: the smallest value with at
/// least that share of the values at or below it). A value type.
public struct LatencyPercentiles: Sendable, Equatable {
    public let p50: Double
    public let p90: Double
    public let p99: Double

    /// Nil for no values.
    public init?(_ milliseconds: [Double]) {
        guard !milliseconds.isEmpty else { return nil }
        let sorted = milliseconds.sorted()
        func rank(_ share: Double) -> Double {
            let position = Int((share * Double(sorted.count)).rounded(.up))
            return sorted[min(max(position, 1), sorted.count) - 1]
        }
        p50 = rank(0.5)
        p90 = rank(0.9)
        p99 = rank(0.99)
    }
}
