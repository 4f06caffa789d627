import TaplineWire

/// The typed member accessors `CapturedSessionAssembler` reads an events.jsonl line
/// through, so one `apply` serves both readers of a line: the general one
/// (`CaptureJSONObject`, a parsed `CaptureJSONValue` tree) and the direct one for the
/// common flat lines (`CaptureFlatLine`).
///
/// Invariant every conformer keeps: for the same line, each accessor returns what
/// `CaptureJSONObject`'s returns for the tree `CaptureJSONParser` makes of it (the
/// last member of a name; nil when missing or of another type), so which reader read
/// a line never changes the assembled session.
protocol CaptureLineFields {
    func value(_ key: String) -> CaptureJSONValue?
    func string(_ key: String) -> String?
    func int64(_ key: String) -> Int64?
    func uint64(_ key: String) -> UInt64?
    func bool(_ key: String) -> Bool?
    func object(_ key: String) -> CaptureJSONObject?
    func array(_ key: String) -> [CaptureJSONValue]?
    /// A `[[name, value], ...]` member (both strings) as a header list; nil when the
    /// member is missing or any element is not such a pair.
    func headers(_ key: String) -> HTTPHeaders?
}
