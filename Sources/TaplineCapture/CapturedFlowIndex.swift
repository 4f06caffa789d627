/// Where each flow of a session is in its events.jsonl: the byte ranges of the lines
/// that make it, so that one flow can be read again (`flow(at:)`) without the session
/// being held. Built by `CapturedSession.stream`, which hands each flow over once and
/// keeps only this.
///
/// Memory: 12 bytes a line (a flow of a GET and its answer has ~6 lines) and 4 bytes a
/// flow, plus one read buffer once flows are read again. Reading a flow parses only its
/// own lines; a flow whose lines lie within `spanLimit` bytes of each other (as they do
/// unless it lasted long among many others) is read with one `pread`, else line by line.
///
/// Invariant: `flow(at:)` gives the flow `stream` handed over with that position, as
/// its lines assemble alone (its connection's facts, `clientAddress` and `clientTLS`,
/// are not read again).
///
/// Thread ownership: built on the thread that streamed the session; then read by one
/// thread at a time (it keeps events.jsonl open and its buffer between reads); another
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
    /// Bytes of events.jsonl from `bufferStart`: the lines of the flow being read.
    private var buffer: [UInt8] = []
    private var bufferStart: UInt64 = 0

    init(directory: String) {
        self.directory = directory
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
        if spanned { try read(from: lineOffsets[start], count: Int(spanEnd - lineOffsets[start])) }
        var assembler = CapturedSessionAssembler(directory: directory)
        for line in start..<end {
            let offset = lineOffsets[line]
            let length = Int(lineLengths[line])
            if !spanned { try read(from: offset, count: length) }
            let from = Int(offset - bufferStart)
            assembler.apply(line: buffer[from..<(from + length)], number: line + 1)
        }
        guard let id = assembler.lastLineFlow, let flow = assembler.takeFlow(id) else {
            throw .cannotRead(path: directory + "/events.jsonl",
                              reason: "no longer holds the flow it held (changed since it was read)")
        }
        return flow
    }

    /// Reads `count` bytes of events.jsonl from `offset` into the buffer.
    private func read(from offset: UInt64, count: Int) throws(CaptureError) {
        let path = directory + "/events.jsonl"
        if file == nil { file = try CaptureFile.openForReading(path) }
        guard let file else { return }
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        var filled = 0
        while filled < count {
            let n = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(CaptureError) -> Int in
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled..<count]), at: offset + UInt64(filled))
                }
            }.get()
            guard n > 0 else {
                throw .cannotRead(path: path, reason: "ends before byte \(offset + UInt64(filled)) (changed since it was read)")
            }
            filled += n
        }
        bufferStart = offset
    }

    /// Another reader of the same flows, for another thread: the line ranges are shared
    /// (arrays copied on write, and no index writes them once streamed), the events.jsonl
    /// descriptor and the read buffer are its own.
    public func makeReader() -> CapturedFlowIndex {
        let reader = CapturedFlowIndex(directory: directory)
        reader.lineOffsets = lineOffsets
        reader.lineLengths = lineLengths
        reader.flowEnds = flowEnds
        return reader
    }

    /// Closes events.jsonl and lets the buffer go (also done when the index goes away).
    public func close() {
        file?.close()
        file = nil
        buffer = []
        bufferStart = 0
    }
}
