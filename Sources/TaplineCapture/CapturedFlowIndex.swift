/// Where each flow of a session is in its events.jsonl: the byte ranges of the lines
/// that make it, so that one flow can be read again (`flow(at:)`) without the session
/// being held. Built by `CapturedSession.stream`, which hands each flow over once and
/// keeps only this.
///
/// Memory: 12 bytes a line (a flow of a GET and its answer has ~6 lines) and 4 bytes a
/// flow, plus the read-ahead windows (`CaptureReadAhead`) once flows are read again, and
/// one flow's span. Reading a flow parses only its own lines; a flow whose lines lie
/// within `spanLimit` bytes of each other (as they do unless it lasted long among many
/// others) is read at once (from a read-ahead window when it is small), else line by line.
///
/// Invariant: `flow(at:)` gives the flow `stream` handed over with that position, as
/// its lines assemble alone (its connection's facts, `clientAddress` and `clientTLS`,
/// are not read again).
///
/// Thread ownership: built on the thread that streamed the session; then read by one
/// thread at a time (it keeps events.jsonl open and its windows between reads); another
/// thread reads through a reader of its own (`makeReader`).
public final class CapturedFlowIndex {
    /// Most bytes from a flow's first line to the end of its last read in one `pread`.
    static let spanLimit = 64 << 10

    /// The session directory.
    public let directory: String
    private var lineOffsets: [UInt64] = []
    private var lineLengths: [UInt32] = []
    /// Per position: the end of its lines in `lineOffsets` (its start is the previous one's end).
    private var flowEnds: [UInt32] = []
    private var file: CaptureFile?
    /// events.jsonl's bytes read ahead: flows read again in about the order of their
    /// recorded connections (as a replay sends them) take one `pread` for several.
    private var readAhead = CaptureReadAhead()
    /// Assembles each flow read again: reset before each, so that a flow assembles as
    /// its lines do alone, and kept so that its storage and line slots are made once per reader.
    private var assembler: CapturedSessionAssembler

    init(directory: String) {
        self.directory = directory
        assembler = CapturedSessionAssembler(directory: directory)
    }

    /// Flows indexed.
    public var count: Int { flowEnds.count }

    /// Adds a flow made of `lines` (offset and length each, in file order); returns its position.
    func add(lines: [(offset: UInt64, length: UInt32)]) -> Int {
        for line in lines {
            lineOffsets.append(line.offset)
            lineLengths.append(line.length)
        }
        flowEnds.append(UInt32(lineOffsets.count))
        return flowEnds.count - 1
    }

    /// Every flow was added: the arrays let go of their spare capacity (up to half of
    /// what they hold, from growing by doubling).
    func finishAdding() {
        lineOffsets = lineOffsets.withUnsafeBufferPointer { Array($0) }
        lineLengths = lineLengths.withUnsafeBufferPointer { Array($0) }
        flowEnds = flowEnds.withUnsafeBufferPointer { Array($0) }
    }

    /// The flow at `position`, read again from events.jsonl.
    ///
    /// - Throws: `cannotRead` when events.jsonl cannot be read or no longer holds the
    ///   lines it held (the session was changed since it was streamed).
    public func flow(at position: Int) throws(CaptureError) -> CapturedFlow {
        let start = position == 0 ? 0 : Int(flowEnds[position - 1])
        let end = Int(flowEnds[position])
        guard start < end else { throw .cannotRead(path: directory + "/events.jsonl", reason: "has no lines for this flow") }
        let spanEnd = lineOffsets[end - 1] + UInt64(lineLengths[end - 1])
        let spanned = spanEnd - lineOffsets[start] <= UInt64(Self.spanLimit)
        let span = spanned ? try read(from: lineOffsets[start], count: Int(spanEnd - lineOffsets[start])) : []
        assembler.reset()
        for line in start..<end {
            let offset = lineOffsets[line]
            let length = Int(lineLengths[line])
            let bytes: ArraySlice<UInt8>
            if spanned {
                let from = span.startIndex + Int(offset - lineOffsets[start])
                bytes = span[from..<(from + length)]
            } else {
                bytes = try read(from: offset, count: length)
            }
            assembler.apply(line: bytes, number: line + 1)
        }
        guard let id = assembler.lastLineFlow, let flow = assembler.takeFlow(id) else {
            throw .cannotRead(path: directory + "/events.jsonl",
                              reason: "no longer holds the flow it held (changed since it was read)")
        }
        return flow
    }

    /// `count` bytes of events.jsonl from `offset`.
    private func read(from offset: UInt64, count: Int) throws(CaptureError) -> ArraySlice<UInt8> {
        let path = directory + "/events.jsonl"
        if file == nil { file = try CaptureFile.openForReading(path) }
        guard let file else { return [] }
        let bytes = try readAhead.read(file, at: offset, count: count)
        guard bytes.count == count else {
            throw .cannotRead(path: path, reason: "ends before byte \(offset + UInt64(bytes.count)) (changed since it was read)")
        }
        return bytes
    }

    /// Another reader of the same flows, for another thread: the line ranges are shared
    /// (arrays copied on write, and no index writes them once streamed), the events.jsonl
    /// descriptor and the read-ahead windows are its own.
    public func makeReader() -> CapturedFlowIndex {
        let reader = CapturedFlowIndex(directory: directory)
        reader.lineOffsets = lineOffsets
        reader.lineLengths = lineLengths
        reader.flowEnds = flowEnds
        return reader
    }

    /// Closes events.jsonl and lets the windows go (also done when the index goes away).
    public func close() {
        file?.close()
        file = nil
        readAhead.removeAll()
    }
}
