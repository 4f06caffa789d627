/// The outcome of comparing bodies of which at least one was not recorded whole:
/// only the bytes both sides have were compared, so the bodies are never called
/// equal. A value type.
public struct IncompleteBodyComparison: Sendable, Equatable {
    /// Why A's / B's body is incomplete (nil for a side that is whole).
    public var aReason: String?
    public var bReason: String?
    /// How many leading bytes were compared (the shorter side's recorded length).
    public var comparedBytes: Int
    /// The offset of the first differing byte within `comparedBytes`, nil when they agree.
    public var firstDifference: Int?

    public init(aReason: String?, bReason: String?, comparedBytes: Int, firstDifference: Int?) {
        self.aReason = aReason
        self.bReason = bReason
        self.comparedBytes = comparedBytes
        self.firstDifference = firstDifference
    }
}
