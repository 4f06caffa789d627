/// The event types `CapturedSessionAssembler` applies: an events.jsonl line's `type`
/// (docs/capture-format.md). The direct reader (`CaptureFlatLine`) finds one on the
/// value's bytes (`init(utf8:count:)`), so the assembler picks its case without making
/// the `String` or comparing it with each name in turn. A type not listed is not one of
/// these (a newer writer's): the assembler counts it by its `String`.
///
/// Invariant: `rawValue` is the type exactly as the writer spells it.
enum CaptureEventType: String, CaseIterable, Sendable {
    case connectionOpened, connectionTLS, connectionClosed
    case flowStarted, requestHead, body, requestEnd, upstreamConnected, responseHead, responseEnd, flowEnded
    case wsMessage, grpcMessage, http2Stream, http2StreamReset, http2Settings, http2GoAway, flowReplays
    case `extension`
    case writerError = "writer-error"

    /// Every type, in the order of `names`.
    static let cases = allCases
    /// Every type's `rawValue`, at its place in `cases`. Globals: each use goes through
    /// its one-time initialisation check, so a reader of many lines keeps both
    /// (`CaptureFlatLine.Slots`).
    static let names = CaptureByteStringTable(cases.map(\.rawValue))

    /// The type whose name is the `count` bytes at `base` (the raw bytes of a JSON string
    /// without escapes), if one is.
    @inline(__always)
    init?(utf8 base: UnsafePointer<UInt8>, count: Int) {
        guard let index = Self.names.index(of: base, count: count) else { return nil }
        self = Self.cases[index]
    }
}
