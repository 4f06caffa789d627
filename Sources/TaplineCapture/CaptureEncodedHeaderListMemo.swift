import Glibc
import TaplineWire

/// The last few header lists a `JSONLineBuilder` wrote (`headerList`), each with the JSON
/// it wrote for them: the flows a loop records mostly repeat their lists (one client's
/// requests, one server's answers), and a list found here (the same field bytes and the
/// same field ends) is written by copying that JSON instead of checking and escaping it
/// again. The same fields are written as the same bytes, so what a line holds does not
/// depend on it.
///
/// Memory: at most `capacity` lists of at most `largestList` bytes, and their JSON; the
/// buffers are reused as lists replace one another.
///
/// Thread ownership: part of one `JSONLineBuilder`, on its owner's thread.
struct CaptureEncodedHeaderListMemo {
    static let capacity = 4
    /// Lists with fewer bytes than this are written each time (as cheap as looking them up).
    static let smallestList = 32
    /// Lists with more bytes are not kept.
    static let largestList = 4 * 1024

    private var fieldBytes: [[UInt8]] = []
    private var fieldEnds: [[UInt32]] = []
    private var encoded: [[UInt8]] = []
    /// The entry the next new list replaces, once `capacity` are kept.
    private var next = 0

    /// Which kept list `fields` is, if one is.
    func index(of fields: HTTPHeaderFieldBytes) -> Int? {
        let bytes = fields.bytes
        guard bytes.count >= Self.smallestList, let start = bytes.baseAddress else { return nil }
        let ends = fields.endOffsets
        for index in fieldBytes.indices where fieldBytes[index].count == bytes.count && fieldEnds[index].count == ends.count {
            let same = fieldBytes[index].withUnsafeBufferPointer { memcmp($0.baseAddress!, start, bytes.count) == 0 }
                && fieldEnds[index].withUnsafeBufferPointer { memcmp($0.baseAddress!, ends.baseAddress!, ends.count * 4) == 0 }
            if same { return index }
        }
        return nil
    }

    /// The JSON kept for list `index`.
    func encoded(_ index: Int) -> [UInt8] { encoded[index] }

    /// Keeps `fields` and the JSON they were written as, in place of the list kept longest.
    mutating func remember(_ fields: HTTPHeaderFieldBytes, encodedAs json: UnsafeBufferPointer<UInt8>) {
        let bytes = fields.bytes
        guard bytes.count >= Self.smallestList, bytes.count <= Self.largestList else { return }
        let slot: Int
        if fieldBytes.count < Self.capacity {
            slot = fieldBytes.count
            fieldBytes.append([])
            fieldEnds.append([])
            encoded.append([])
        } else {
            slot = next
            next = (next + 1) % Self.capacity
        }
        fieldBytes[slot].removeAll(keepingCapacity: true)
        fieldBytes[slot].append(contentsOf: bytes)
        fieldEnds[slot].removeAll(keepingCapacity: true)
        fieldEnds[slot].append(contentsOf: fields.endOffsets)
        encoded[slot].removeAll(keepingCapacity: true)
        encoded[slot].append(contentsOf: json)
    }
}
