/// How two bodies (or WebSocket payloads) differ, in the terms of their kind. A value type.
public enum BodyDifference: Sendable, Equatable {
    /// Both are JSON: the changes, with pointers (never empty).
    case json([JSONChange])
    /// Both are `application/x-www-form-urlencoded`: the parameters that differ (never empty).
    case form([FieldDifference])
    /// Both are UTF-8 text (and not both JSON or forms): a unified line diff.
    case text(UnifiedTextDiff)
    /// Otherwise: size and SHA-256 of each.
    case binary(a: BodyFingerprint, b: BodyFingerprint)
    /// At least one side was not recorded whole: compared only as far as both go.
    case incomplete(IncompleteBodyComparison)
}
