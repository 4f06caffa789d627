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
        p50 = Self.rank(0.5, of: sorted)
        p90 = Self.rank(0.9, of: sorted)
        p99 = Self.rank(0.99, of: sorted)
    }

    /// From durations in whole microseconds (`LatencySamples`), sorted in place; nil for none.
    public init?(microseconds samples: inout [Int32]) {
        guard !samples.isEmpty else { return nil }
        samples.sort()
        p50 = Double(Self.rank(0.5, of: samples)) / 1_000
        p90 = Double(Self.rank(0.9, of: samples)) / 1_000
        p99 = Double(Self.rank(0.99, of: samples)) / 1_000
    }

    private static func rank<Value>(_ share: Double, of sorted: [Value]) -> Value {
        let position = Int((share * Double(sorted.count)).rounded(.up))
        return sorted[min(max(position, 1), sorted.count) - 1]
    }
}
