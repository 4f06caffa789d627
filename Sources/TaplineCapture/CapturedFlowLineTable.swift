/// The byte ranges of each flow's events.jsonl lines, as `CapturedFlowIndex` keeps them:
/// compact, grown block by block, and shared between readers.
///
/// Encoding: per flow, its records' place (a block and an offset in it, packed in a
/// `UInt64`); its records are unsigned LEB128 varints (7 bits a byte, low group first):
/// its line count, the offset of its first line, its span (from there to the end of its
/// last line: what a reader reads at once), then each line's length but the last's (the
/// span gives it) and, for each further line, the gap from the end of the flow's previous
/// line to its start (1 when the lines follow each other, the newline between them, as a
/// flow's lines mostly do; any `UInt64`). Why this: a flow's lines are read together and
/// in order, so gaps from one line to the next are small numbers without a per-line
/// absolute offset, the only random access, a flow's first record, is one array lookup,
/// and its span is known before its lines are decoded, in one pass. A flow's
/// records are never split between blocks (a flow that does not fit in the rest of the
/// last block starts the next one; one larger than a block gets a block of its own size),
/// so a flow is decoded from one buffer (`CapturedFlowLines`).
///
/// Memory: a line of under 16 KiB following the flow's previous one is 3 bytes (gap 1
/// byte, length 2; 2 bytes under 128); a flow adds 8 bytes (its place), its line count (1
/// byte under 128 lines) and its first offset (4 bytes in a file under 256 MiB, 5 under 32
/// GiB), less its first line's gap (it has none). So a flow of 8 lines is ~36 bytes (less
/// when its lines are under 128 bytes). Record bytes are in blocks of `blockSize`
/// bytes (64 KiB; at most the records of one flow left unused at each block's end), flow
/// places in chunks of `1 << chunkShift` (8,192: 64 KiB); each block and chunk is
/// allocated once at its full size: growing never copies what is held (only the short
/// arrays of blocks grow by doubling, one reference per 64 KiB), and `trimLastBlocks`
/// copies at most the last block and chunk.
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
    static let defaultBlockSize = 64 << 10
    /// Flow places a chunk holds: 8,192 (64 KiB).
    static let defaultChunkShift = 13

    private let blockSize: Int
    private let chunkShift: Int
    /// The record bytes: each block allocated at its full size (`blockSize`, or one
    /// flow's records when they are more), written up to `lastBlockUsed` in the last one.
    private var blocks: [[UInt8]] = []
    /// Bytes of the last block written.
    private var lastBlockUsed = 0
    /// Per flow, where its records are: its block's index << 32 | its offset in the block;
    /// `1 << chunkShift` a chunk (the last may hold fewer).
    private var flowPlaces: [[UInt64]] = []
    /// Record bytes written.
    private(set) var byteCount = 0
    /// Flows appended.
    private(set) var count = 0

    /// An empty table; tests make the blocks and chunks small, to cross them often.
    init(blockSize: Int = Self.defaultBlockSize, chunkShift: Int = Self.defaultChunkShift) {
        precondition(blockSize > 0 && blockSize <= UInt32.max && (0..<32).contains(chunkShift),
                     "a block holds 1 byte to 4 GiB, a chunk up to 2^31 flows")
        self.blockSize = blockSize
        self.chunkShift = chunkShift
    }

    /// Appends a flow made of `lines` (in file order: each starts at or after the end of
    /// the one before); returns its position.
    ///
    /// - Precondition: its records are under 4 GiB (a billion lines).
    mutating func append(lines: [Line]) -> Int {
        // A flow has at most 2 records a line, plus one (`forEachRecord`), each at most
        // `maxVarintSize` bytes: one whose records surely fit in the rest of the last block
        // is written there without being sized first. Any other is sized and placed as
        // the size says, so the records land where sizing every flow would put them.
        let mostBytes = (2 * lines.count + 1) * Self.maxVarintSize
        if blocks.isEmpty || lastBlockUsed + mostBytes > blocks[blocks.count - 1].count {
            var size = 0
            Self.forEachRecord(of: lines) { size += Self.varintSize($0) }
            precondition(size <= UInt32.max, "a flow's line records are under 4 GiB")
            if blocks.isEmpty || lastBlockUsed + size > blocks[blocks.count - 1].count {
                blocks.append([UInt8](repeating: 0, count: max(blockSize, size)))
                lastBlockUsed = 0
            }
        }
        if count & ((1 << chunkShift) - 1) == 0 {
            flowPlaces.append([])
            flowPlaces[flowPlaces.count - 1].reserveCapacity(1 << chunkShift)
        }
        flowPlaces[flowPlaces.count - 1].append(UInt64(blocks.count - 1) << 32 | UInt64(lastBlockUsed))
        count += 1
        let start = lastBlockUsed
        lastBlockUsed = blocks[blocks.count - 1].withUnsafeMutableBufferPointer { block in
            var cursor = start
            Self.forEachRecord(of: lines) { Self.write($0, to: block, at: &cursor) }
            return cursor
        }
        byteCount += lastBlockUsed - start
        return count - 1
    }

    /// The values of a flow's records, in order (written as varints): its line count; for
    /// a flow with lines, its first line's offset and its span (from there to the end of
    /// its last line); each line's length but the last's (the span's end gives it), and
    /// each further line's gap from the end of the one before.
    @inline(__always)
    private static func forEachRecord(of lines: [Line], _ body: (UInt64) -> Void) {
        body(UInt64(lines.count))
        lines.withUnsafeBufferPointer { lines in
            guard let first = lines.first, let last = lines.last else { return }
            body(first.offset)
            precondition(last.offset >= first.offset, "a flow's lines are added in file order")
            body(last.offset + UInt64(last.length) - first.offset)
            if lines.count > 1 { body(UInt64(first.length)) }
            var previousEnd = first.offset + UInt64(first.length)
            for number in 1..<lines.count {
                let line = lines[number]
                precondition(line.offset >= previousEnd, "a flow's lines are added in file order")
                body(line.offset - previousEnd)
                if number < lines.count - 1 { body(UInt64(line.length)) }
                previousEnd = line.offset + UInt64(line.length)
            }
        }
    }

    /// The last block and chunk let go of their unused room (each was allocated at its
    /// full size). Call once every flow was appended.
    mutating func trimLastBlocks() {
        if let last = blocks.indices.last, lastBlockUsed < blocks[last].count {
            blocks[last] = Array(blocks[last][..<lastBlockUsed])
        }
        if let last = flowPlaces.indices.last { flowPlaces[last] = flowPlaces[last].withUnsafeBufferPointer { Array($0) } }
    }

    /// The lines of the flow at `position`, in file order.
    @inline(__always)
    func lines(at position: Int) -> CapturedFlowLines {
        let place = flowPlaces[position >> chunkShift][position & ((1 << chunkShift) - 1)]
        return CapturedFlowLines(block: blocks[Int(place >> 32)], cursor: Int(place & 0xFFFF_FFFF))
    }

    /// Most bytes a varint takes (a `UInt64` of 64 significant bits: 10 groups of 7).
    private static let maxVarintSize = 10

    /// Bytes of `value` as a varint.
    @inline(__always)
    private static func varintSize(_ value: UInt64) -> Int {
        (max(1, UInt64.bitWidth - value.leadingZeroBitCount) + 6) / 7
    }

    /// Writes `value` as a varint at `cursor`, which moves past it.
    @inline(__always)
    private static func write(_ value: UInt64, to block: UnsafeMutableBufferPointer<UInt8>, at cursor: inout Int) {
        var value = value
        while value >= 0x80 {
            block[cursor] = UInt8(truncatingIfNeeded: value) | 0x80
            cursor += 1
            value >>= 7
        }
        block[cursor] = UInt8(value)
        cursor += 1
    }
}
