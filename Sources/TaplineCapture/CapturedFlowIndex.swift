/// Where each flow of a session is in its events.jsonl: the byte ranges of the lines
/// that make it, so that one flow can be read again (`flow(at:)`) without the session
/// being held. Built by `CapturedSession.stream`, which hands each flow over once and
/// keeps only this.
///
/// Memory: ~3 bytes a line and ~13 bytes a flow (`CapturedFlowLineTable`: varints in 64
/// KiB blocks, grown without copying; a flow of a GET and its answer has ~6-8 lines,
/// 30-37 bytes), plus, once flows are read again, the read-ahead windows (`CaptureReadAhead`)
/// and one flow's span. Reading a flow parses only its own lines; a flow whose lines lie
/// within `spanLimit` bytes of each other (as they do unless it lasted long among many
/// others) is read at once (from a read-ahead window when it is small), else line by line.
///
/// Invariant: `flow(at:detail:)` gives the flow `stream` handed over with that position,
/// as its lines assemble alone (its connection's facts, `clientAddress` and `clientTLS`,
/// are not read again), with what its `detail` assembles, whatever `CapturedFlowDetail`
/// it was streamed with. An index streamed with `.replayPlan` fails to read a flow one of
/// whose lines of the types that read may take by their prefix alone (`upstreamConnected`,
/// `flowEnded`; a plain request's `responseHead`, `body`, `requestEnd`, `responseEnd`)
/// starts as the encoder writes it and is damaged after that
/// (the streaming read may have neither read nor warned about the rest of it); one that
/// `detail` leaves out unread (`.replaySend`'s `upstreamConnected`) is not looked at.
///
/// Thread ownership: built on the thread that streamed the session; then read by one
/// thread at a time (it keeps events.jsonl open and its windows between reads); another
/// thread reads through a reader of its own (`makeReader`), which shares the line table
/// (never written once `finishAdding` ran: `CapturedFlowLineTable`'s invariant).
public final class CapturedFlowIndex {
    /// Most bytes from a flow's first line to the end of its last read in one `pread`.
    static let spanLimit = 64 << 10

    /// The session directory.
    public let directory: String
    /// The session's events.jsonl, its path made once (not for every flow read again).
    private let eventsPath: String
    /// What of each flow the streaming read that built the index assembled.
    private let streamedDetail: CapturedFlowDetail
    /// Per position, the byte ranges of its lines.
    private var lineTable: CapturedFlowLineTable
    private var file: CaptureFile?
    /// events.jsonl's bytes read ahead: flows read again in about the order of their
    /// recorded connections (as a replay sends them) take one `pread` for several.
    private var readAhead = CaptureReadAhead()
    /// Assembles each flow read again: reset before each, so that a flow assembles as
    /// its lines do alone, and kept so that its storage and line slots are made once per reader.
    private var assembler: CapturedSessionAssembler

    /// An empty index of the session in `directory`, streamed with `detail`; tests give a
    /// line table of small blocks.
    init(directory: String, detail: CapturedFlowDetail = .whole, lineTable: CapturedFlowLineTable = CapturedFlowLineTable()) {
        self.directory = directory
        eventsPath = directory + "/events.jsonl"
        streamedDetail = detail
        self.lineTable = lineTable
        assembler = CapturedSessionAssembler(directory: directory, checksLinesTakenByPrefix: detail == .replayPlan)
    }

    /// Flows indexed.
    public var count: Int { lineTable.count }

    /// Adds a flow made of `lines` (offset and length each, in file order); returns its position.
    func add(lines: [CapturedFlowLineTable.Line]) -> Int {
        lineTable.append(lines: lines)
    }

    /// Every flow was added: the line table's last block lets go of its unused room, and
    /// the table is not written again.
    func finishAdding() {
        lineTable.trimLastBlocks()
    }

    /// The flow at `position`, read again from events.jsonl; `detail` says what of it is
    /// assembled (`CapturedFlowDetail`; any but `.replayPlan`, which reads a session once).
    ///
    /// - Throws: `cannotRead` when events.jsonl cannot be read or no longer holds the
    ///   lines it held (the session was changed since it was streamed), or (an index
    ///   streamed with `.replayPlan`) when a line that read may have taken by its prefix
    ///   alone is damaged after it, naming the line by its byte offset.
    public func flow(at position: Int, detail: CapturedFlowDetail = .whole) throws(CaptureError) -> CapturedFlow {
        var lines = lineTable.lines(at: position)
        guard let lineSpan = lines.span else {
            throw .cannotRead(path: eventsPath, reason: "has no lines for this flow")
        }
        let first = lineSpan.lowerBound
        let spanned = lineSpan.count <= Self.spanLimit
        let span = spanned ? try read(from: first, count: lineSpan.count) : []
        assembler.reset(detail: detail)
        var number = 0
        // The flow the last line read names (nil when that line no longer names one); a
        // line `detail` leaves out is not read.
        var flowID: UInt64?
        // Numbered within the flow: the warnings of a flow read again are not shown.
        func apply(_ bytes: UnsafeBufferPointer<UInt8>) {
            number += 1
            assembler.applyReadAgain(bytes: bytes, number: number)
            if !assembler.lastLineLeftOut { flowID = assembler.lastLineFlow }
        }
        if spanned {
            // Each line in place in the span, which is not retained and released per line.
            span.withUnsafeBufferPointer { spanBytes in
                while let line = lines.next() {
                    let from = Int(line.offset - first)
                    apply(UnsafeBufferPointer(rebasing: spanBytes[from..<(from + line.length)]))
                }
            }
        } else {
            while let line = lines.next() {
                try read(from: line.offset, count: line.length).withUnsafeBufferPointer { apply($0) }
            }
        }
        if let damage = assembler.damageAfterPrefix {
            var damaged = lineTable.lines(at: position)
            for _ in 1..<damage.number { _ = damaged.next() }
            let offset = damaged.next().map { String($0.offset) } ?? "?"
            throw .cannotRead(path: eventsPath, reason: "\(damage.reason): the line at byte \(offset)")
        }
        guard let id = flowID, let flow = assembler.takeFlow(id) else {
            throw .cannotRead(path: eventsPath,
                              reason: "no longer holds the flow it held (changed since it was read)")
        }
        return flow
    }

    /// `count` bytes of events.jsonl from `offset`.
    private func read(from offset: UInt64, count: Int) throws(CaptureError) -> ArraySlice<UInt8> {
        if file == nil { file = try CaptureFile.openForReading(eventsPath) }
        guard let file else { return [] }
        let bytes = try readAhead.read(file, at: offset, count: count)
        guard bytes.count == count else {
            throw .cannotRead(path: eventsPath, reason: "ends before byte \(offset + UInt64(bytes.count)) (changed since it was read)")
        }
        return bytes
    }

    /// Another reader of the same flows, for another thread: the line table is shared, not
    /// copied (its blocks, which no index writes once streamed); the events.jsonl
    /// descriptor, the read-ahead windows and the assembler are its own.
    public func makeReader() -> CapturedFlowIndex {
        CapturedFlowIndex(directory: directory, detail: streamedDetail, lineTable: lineTable)
    }

    /// Closes events.jsonl and lets the windows go (also done when the index goes away).
    public func close() {
        file?.close()
        file = nil
        readAhead.removeAll()
    }
}
