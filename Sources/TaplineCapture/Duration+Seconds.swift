extension Duration {
    /// The duration in seconds, as `Double` (for rates and `Date`-based waits).
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
