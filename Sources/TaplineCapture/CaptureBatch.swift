/// What a `CaptureEventEncoder` hands the writer thread at once: whole encoded
/// lines for events.jsonl and the body bytes those lines refer to.
///
/// Thread ownership: built by one encoder (on an event loop, or under the
/// writer's lock), then moved to the writer thread, which alone reads it
/// (`@unchecked Sendable`: handed over, never shared).
///
/// Invariants: `lines` holds whole lines only. `bodies` is the concatenation of
/// the stretches in `runs`, in order; each run is contiguous in its segment and
/// starts where the encoder's previous run in that segment ended. Every body line
/// in `lines` refers to bytes in this batch's runs or in earlier batches of the
/// same encoder, so writing the runs before the lines keeps the format's order.
struct CaptureBatch: @unchecked Sendable {
    /// One stretch of `bodies` destined for `segment` at `offset`.
    struct Run {
        var segment: Int
        var offset: UInt64
        var length: Int
    }

    var lines: CaptureByteStorage
    /// nil when the batch carries no body bytes.
    var bodies: CaptureByteStorage?
    var runs: [Run]
    /// Segments the encoder has finished with; the writer closes them after the runs.
    var finishedSegments: [Int]
    /// What this batch adds to the session's totals.
    var stats: SessionStats

    /// Bytes this batch holds, counted against the writer's watermarks.
    var cost: Int { lines.count + (bodies?.count ?? 0) }
}
