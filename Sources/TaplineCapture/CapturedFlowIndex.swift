/// Where each flow of a session is in its events.jsonl: the byte ranges of the lines
/// that make it, so that one flow can be read again (`flow(at:)`) without the session
/// being held. Built by `CapturedSession.stream`, which hands each flow over once and
/// keeps only this.
///
/// Memory: 12 bytes a line (a flow of a GET and its answer has ~6 lines) and 8 bytes
/// a flow. Reading a flow again reads and parses only its own lines.
///
/// Invariant: `flow(at:)` gives the flow `stream` handed over with that position, as
/// its lines assemble alone (its connection's facts, `clientAddress` and `clientTLS`,
/// are not read again). A value type; reading opens events.jsonl for the call.
public struct CapturedFlowIndex: Sendable {
    /// The session directory.
    public let directory: String
    private var lineOffsets: [UInt64] = []
    private var lineLengths: [UInt32] = []
    /// Per position: the end of its lines in `lineOffsets` (its start is the previous one's end).
    private var flowEnds: [UInt32] = []

    init(directory: String) {
        self.directory = directory
    }

    /// Flows indexed.
    public var count: Int { flowEnds.count }

    /// Adds a flow made of `lines` (offset and length each, in file order); returns its position.
    mutating func add(lines: [(offset: UInt64, length: UInt32)]) -> Int {
        for line in lines {
            lineOffsets.append(line.offset)
            lineLengths.append(line.length)
        }
        flowEnds.append(UInt32(lineOffsets.count))
        return flowEnds.count - 1
    }

    /// The flow at `position`, read again from events.jsonl.
    ///
    /// - Throws: `cannotRead` when events.jsonl cannot be read or no longer holds the
    ///   lines it held (the session was changed since it was streamed).
    public func flow(at position: Int) throws(CaptureError) -> CapturedFlow {
        let start = position == 0 ? 0 : Int(flowEnds[position - 1])
        let end = Int(flowEnds[position])
        let path = directory + "/events.jsonl"
        let file = try CaptureFile.openForReading(path)
        defer { file.close() }
        var assembler = CapturedSessionAssembler(directory: directory)
        var buffer: [UInt8] = []
        for line in start..<end {
            let length = Int(lineLengths[line])
            if buffer.count < length { buffer = [UInt8](repeating: 0, count: length) }
            var filled = 0
            while filled < length {
                let n = try buffer.withUnsafeMutableBytes { raw in
                    Result { () throws(CaptureError) -> Int in
                        try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled..<length]),
                                      at: lineOffsets[line] + UInt64(filled))
                    }
                }.get()
                guard n > 0 else {
                    throw .cannotRead(path: path, reason: "ends before byte \(lineOffsets[line] + UInt64(filled)) (changed since it was read)")
                }
                filled += n
            }
            assembler.apply(line: buffer[0..<length], number: line + 1)
        }
        guard let id = assembler.lastLineFlow, let flow = assembler.takeFlow(id) else {
            throw .cannotRead(path: path, reason: "no longer holds the flow it held (changed since it was read)")
        }
        return flow
    }
}
