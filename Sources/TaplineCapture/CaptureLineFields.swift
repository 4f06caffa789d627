import TaplineWire

/// The typed member accessors `CapturedSessionAssembler` reads an events.jsonl line (and
/// the objects in it) through, so one `apply` serves both readers of a line: the general
/// one (`CaptureJSONObject`, a parsed `CaptureJSONValue` tree) and the direct one for the
/// common flat lines (`CaptureFlatLine`). Members are asked for by `CaptureLineKey`: the
/// names the assembler reads.
///
/// Invariant every conformer keeps: for the same line, each accessor returns what
/// `CaptureJSONObject`'s returns for the tree `CaptureJSONParser` makes of it (the
/// last member of a name; nil when missing or of another type), and `object` an object
/// that keeps this in turn, so which reader read a line never changes the assembled
/// session (`CaptureLineReaderAgreement` checks it).
protocol CaptureLineFields {
    /// What `object` returns: a member that is an object, read the same way.
    associatedtype Object: CaptureLineFields

    func value(_ key: CaptureLineKey) -> CaptureJSONValue?
    func string(_ key: CaptureLineKey) -> String?
    func int64(_ key: CaptureLineKey) -> Int64?
    func uint64(_ key: CaptureLineKey) -> UInt64?
    func bool(_ key: CaptureLineKey) -> Bool?
    func object(_ key: CaptureLineKey) -> Object?
    func array(_ key: CaptureLineKey) -> [CaptureJSONValue]?
    /// A `[[name, value], ...]` member (both strings) as a header list; nil when the
    /// member is missing or any element is not such a pair.
    func headers(_ key: CaptureLineKey) -> HTTPHeaders?
    /// Whether a `[[name, value], ...]` member may have a field named `name` (ASCII
    /// lowercase), without making the list: true for a name equal to it ignoring ASCII
    /// case (or that the reader does not compare cheaply, as an escaped one), else false;
    /// nil when `headers(key)` is nil.
    func headers(_ key: CaptureLineKey, mayName name: String) -> Bool?
    /// Whether `headers(key)` is a list (not nil), without making it.
    func hasHeaders(_ key: CaptureLineKey) -> Bool
    /// The `type` member as a listed event type; nil when it is missing, not a string or
    /// not listed (`string(.type)` then gives it).
    var eventType: CaptureEventType? { get }
}
