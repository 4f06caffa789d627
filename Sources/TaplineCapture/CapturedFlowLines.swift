/// One flow's lines as `CapturedFlowLineTable` holds them (its varint records), decoded
/// as they are iterated: each line's offset in events.jsonl and its length, in file order.
/// Its span is known before any line is decoded. Iterating again decodes again (a few
/// bytes a line, no allocation).
///
/// Thread ownership: a value; it shares its block with the table (read only).
struct CapturedFlowLines: Sequence, IteratorProtocol {
    /// The block that holds the flow's records.
    private let block: [UInt8]
    /// Where the next record starts in `block`.
    private var cursor: Int
    /// Lines not decoded yet.
    private var remaining: UInt64
    /// Where the flow's first line starts and its last ends.
    private let first: UInt64, end: UInt64
    /// The end of the line decoded last (`first` before the first: its gap is not stored).
    private var previousEnd: UInt64
    /// Whether a line was decoded.
    private var started = false

    /// The flow whose records (its line count first) start at `cursor` in `block`.
    @inline(__always)
    init(block: [UInt8], cursor: Int) {
        var cursor = cursor
        remaining = Self.varint(in: block, at: &cursor)
        first = remaining > 0 ? Self.varint(in: block, at: &cursor) : 0
        end = remaining > 0 ? first + Self.varint(in: block, at: &cursor) : 0
        previousEnd = first
        self.block = block
        self.cursor = cursor
    }

    /// From the flow's first line to the end of its last; nil for a flow without lines.
    var span: Range<UInt64>? { remaining > 0 || started ? first..<end : nil }

    // Wrapping arithmetic: the records were checked when written (`CapturedFlowLineTable.append`:
    // offsets in file order, ends within UInt64), so no sum or difference here overflows.
    @inline(__always)
    mutating func next() -> (offset: UInt64, length: Int)? {
        guard remaining > 0 else { return nil }
        remaining &-= 1
        let offset = started ? previousEnd &+ Self.varint(in: block, at: &cursor) : first
        let length = remaining == 0 ? end &- offset : Self.varint(in: block, at: &cursor)
        started = true
        previousEnd = offset &+ length
        return (offset, Int(truncatingIfNeeded: length))
    }

    /// The varint at `cursor` in `block`, and `cursor` past it.
    @inline(__always)
    private static func varint(in block: [UInt8], at cursor: inout Int) -> UInt64 {
        var byte = block[cursor]
        cursor &+= 1
        if byte < 0x80 { return UInt64(byte) }
        var value = UInt64(byte & 0x7F)
        var shift: UInt64 = 7
        repeat {
            byte = block[cursor]
            cursor &+= 1
            value |= UInt64(byte & 0x7F) << shift
            shift &+= 7
        } while byte >= 0x80
        return value
    }
}
