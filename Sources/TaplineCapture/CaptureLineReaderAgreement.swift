import TaplineWire

/// The differential check between the capture reader's two ways of reading an
/// events.jsonl line: the direct one (`CaptureFlatLine`) must either decline a line
/// or, for every member name, answer every `CaptureLineFields` accessor exactly as
/// `CaptureJSONObject` answers for `CaptureJSONParser`'s tree of it. Used by the
/// unit tests and the capturejson fuzzer (hence public). Stateless.
public enum CaptureLineReaderAgreement {
    /// Names every line is also asked for, present or not (the ones the assembler reads).
    private static let probedKeys = [
        "t", "type", "flow", "conn", "kind", "scheme", "authority", "stream", "method", "target", "version",
        "headers", "trailers", "ended", "status", "reason", "dir", "seg", "off", "len", "bodyBytes",
        "capturedBytes", "truncated", "server", "reused", "tls", "timings", "error", "name", "value",
        "bytesFromClient", "bytesFromServer", "missing",
    ]

    /// What the check found for one line: `.declined` (the general parser reads it)
    /// and `.agreed` are both fine; `.disagreed` is a bug, with the first difference.
    public enum Verdict: Equatable, Sendable {
        case declined
        case agreed
        case disagreed(String)
    }

    public static func check(_ line: UnsafeBufferPointer<UInt8>) -> Verdict {
        guard let flat = CaptureFlatLine(line) else { return .declined }
        guard let parsed = try? CaptureJSONParser.parse(line), let object = CaptureJSONObject(parsed) else {
            return .disagreed("the direct reader took a line the parser rejects or that is not an object")
        }
        for key in probedKeys + object.members.map(\.key) {
            if flat.value(key) != object.value(key) {
                return .disagreed("value(\(key)): \(String(describing: flat.value(key))) vs \(String(describing: object.value(key)))")
            }
            if flat.string(key) != object.string(key) { return .disagreed("string(\(key))") }
            if flat.int64(key) != object.int64(key) { return .disagreed("int64(\(key))") }
            if flat.uint64(key) != object.uint64(key) { return .disagreed("uint64(\(key))") }
            if flat.bool(key) != object.bool(key) { return .disagreed("bool(\(key))") }
            if flat.object(key).map({ CaptureJSONValue.object($0.members) }) != object.object(key).map({ .object($0.members) }) {
                return .disagreed("object(\(key))")
            }
            if flat.array(key) != object.array(key) { return .disagreed("array(\(key))") }
            if flat.headers(key) != object.headers(key) { return .disagreed("headers(\(key))") }
        }
        return .agreed
    }

    public static func check(_ line: [UInt8]) -> Verdict {
        line.withUnsafeBufferPointer { check($0) }
    }
}
