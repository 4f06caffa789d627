/// The byte ranges of each flow's events.jsonl lines, as `CapturedFlowIndex` keeps them:
/// compact, grown block by block, and shared between readers.
///
/// Encoding: per flow, where its records start (a `UInt64` position in the record
/// bytes); its records are unsigned LEB128 varints (7 bits a byte, low group first): the
/// offset of its first line and that line's length, then for each further line the gap
/// from the end of the flow's previous line to its start (1 when the lines follow each
/// other, the newline between them, as a flow's lines mostly do; any `UInt64`) and its
/// length. A flow's records end where the next flow's start (the last one's at the end
/// of the record bytes), so its line count is not stored. Why this: a flow's lines are
/// read together and in order, so gaps from one line to the next are small numbers
/// without a per-line absolute offset, and the only random access, a flow's first
/// record, is one array lookup.
///
/// Memory: a line of under 16 KiB following the flow's previous one is 3 bytes (gap 1
/// byte, length 2; 2 bytes under 128); a flow adds 8 bytes (its start) and its first
/// offset (4 bytes in a file under 256 MiB, 5 under 32 GiB). So a flow of 8 lines is ~36
/// bytes. Record bytes are in blocks of `1 << blockShift` bytes (64 KiB), flow starts in
/// chunks of `1 << chunkShift` (8,192: 64 KiB); every block and chunk but the last is
/// full, and each is allocated once at its full size: growing never copies what is held
/// (only the short arrays of blocks grow by doubling, one reference per 64 KiB), and
/// `trimLastBlocks` copies at most one block and one chunk.
///
/// Invariant: a table is written (`append`, `trimLastBlocks`) only while its session is
/// streamed; once `CapturedFlowIndex.finishAdding` ran, its blocks are never written
/// again, and copies of it (`CapturedFlowIndex.makeReader`) share them.
///
/// Thread ownership: a value; its copies share the blocks copy-on-write (Swift arrays:
/// the reference counts are atomic, and a write to a shared block would copy it first),
/// so a copy can be read on another thread while the original is read, or even written.
struct CapturedFlowLineTable: Sendable {
    /// A line: its offset in events.jsonl and its length (without the newline).
    typealias Line = (offset: UInt64, length: UInt32)

    /// Record bytes a block holds: 64 KiB.
    static let defaultBlockShift = 16
    /// Flow starts a chunk holds: 8,192 (64 KiB).
    static let defaultChunkShift = 13

    private let blockShift: Int
    private let chunkShift: Int
    /// The record bytes, `1 << blockShift` a block (the last may hold fewer).
    private var blocks: [[UInt8]] = []
    /// Per flow, where its records start in the record bytes, `1 << chunkShift` a chunk
    /// (the last may hold fewer).
    private var flowStarts: [[UInt64]] = []
    /// Record bytes written (where the next flow's records start).
    private(set) var byteCount: UInt64 = 0
    /// Flows appended.
    private(set) var count = 0

    /// An empty table; tests make the blocks and chunks small, to cross them often.
    init(blockShift: Int = Self.defaultBlockShift, chunkShift: Int = Self.defaultChunkShift) {
        precondition((0..<32).contains(blockShift) && (0..<32).contains(chunkShift), "block sizes are powers of two below 2^32")
        self.blockShift = blockShift
        self.chunkShift = chunkShift
    }

    /// Appends a flow made of `lines` (in file order: each starts at or after the end of
    /// the one before); returns its position.
    mutating func append(lines: [Line]) -> Int {
        if count & ((1 << chunkShift) - 1) == 0 {
            flowStarts.append([])
            flowStarts[flowStarts.count - 1].reserveCapacity(1 << chunkShift)
        }
        flowStarts[flowStarts.count - 1].append(byteCount)
        count += 1
        guard let first = lines.first else { return count - 1 }
        appendVarint(first.offset)
        appendVarint(UInt64(first.length))
        var previousEnd = first.offset + UInt64(first.length)
        for line in lines.dropFirst() {
            precondition(line.offset >= previousEnd, "a flow's lines are added in file order")
            appendVarint(line.offset - previousEnd)
            appendVarint(UInt64(line.length))
            previousEnd = line.offset + UInt64(line.length)
        }
        return count - 1
    }

    /// The last block and chunk let go of their unused room (each was allocated at its
    /// full size); the others are full. Call once every flow was appended.
    mutating func trimLastBlocks() {
        if let last = blocks.indices.last { blocks[last] = blocks[last].withUnsafeBufferPointer { Array($0) } }
        if let last = flowStarts.indices.last { flowStarts[last] = flowStarts[last].withUnsafeBufferPointer { Array($0) } }
    }

    /// The lines of the flow at `position` (in file order) in `lines`, which is emptied
    /// first (its room is kept, for the next flow).
    func lines(at position: Int, into lines: inout [(offset: UInt64, length: Int)]) {
        lines.removeAll(keepingCapacity: true)
        var cursor = start(of: position)
        let end = position + 1 < count ? start(of: position + 1) : byteCount
        guard cursor < end else { return }
        var offset = varint(at: &cursor)
        var length = varint(at: &cursor)
        lines.append((offset, Int(length)))
        while cursor < end {
            offset += length + varint(at: &cursor)
            length = varint(at: &cursor)
            lines.append((offset, Int(length)))
        }
    }

    private func start(of position: Int) -> UInt64 {
        flowStarts[position >> chunkShift][position & ((1 << chunkShift) - 1)]
    }

    private mutating func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            appendByte(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        appendByte(UInt8(value))
    }

    private mutating func appendByte(_ byte: UInt8) {
        if byteCount & ((1 << blockShift) - 1) == 0 {
            blocks.append([])
            blocks[blocks.count - 1].reserveCapacity(1 << blockShift)
        }
        blocks[blocks.count - 1].append(byte)
        byteCount += 1
    }

    /// The varint at `cursor` (a position in the record bytes), which moves past it.
    private func varint(at cursor: inout UInt64) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = blocks[Int(cursor >> UInt64(blockShift))][Int(cursor & ((1 << UInt64(blockShift)) - 1))]
            cursor += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }
}
