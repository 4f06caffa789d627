import Foundation

/// A number with one decimal, exactly as `String(format: "%.1f", value)` prints it, without
/// Foundation's format parser where the answer is plain: the replay's latency table prints
/// three such numbers twice per endpoint (a session of 1,000 distinct URLs: 6,000), and
/// each `String(format:)` cost ~11k instructions. Pure.
enum OneDecimalText {
    /// `String(format: "%.1f", value)`. Done by hand for a non-negative value below 10^8
    /// whose tenths are not within 10^-6 of a tie: there `value * 10` (off by under 10^-7)
    /// rounds to the same integer as the exact binary value does, which is what printf
    /// rounds. Anything else (ties, huge, negative, not finite) goes to `String(format:)`.
    static func string(_ value: Double) -> String {
        let tenths = value * 10
        guard value.sign == .plus, value.isFinite, value < 100_000_000,
              abs(tenths - tenths.rounded(.down) - 0.5) > 0.000_001 else {
            return String(format: "%.1f", value)
        }
        let rounded = Int(tenths.rounded())
        return "\(rounded / 10).\(rounded % 10)"
    }
}
