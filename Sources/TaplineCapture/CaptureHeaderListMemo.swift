import Glibc
import TaplineWire

/// The last few header lists one reader built (`CaptureFlatLine.headers`), each by the
/// bytes its line wrote it with. The flows of a recording mostly repeat their lists
/// (one client's requests, one server's answers; the events of a flow read again for a
/// replay come one flow after another), and a list found here is handed out again, its
/// storage shared (`HTTPHeaders` is copied on write), rather than built once more. The
/// same bytes read as the same fields, so what a line reads as does not depend on it.
///
/// Memory: at most `capacity` lists of at most `largestList` bytes, and their fields.
///
/// Thread ownership: part of one `CaptureFlatLine.Slots`, on its owner's thread. A list
/// handed out may go to any thread (its storage is only read, or copied first).
struct CaptureHeaderListMemo {
    static let capacity = 4
    /// Lists shorter than this are built each time (as cheap as looking them up).
    static let smallestList = 32
    /// Longer lists are not kept.
    static let largestList = 8 * 1024

    private var lists: [[UInt8]] = []
    private var headers: [HTTPHeaders] = []
    /// The entry the next new list replaces, once `capacity` are kept.
    private var next = 0

    /// The fields of a list written as `written`, if it is one of those kept.
    func headers(writtenAs written: UnsafeBufferPointer<UInt8>) -> HTTPHeaders? {
        guard written.count >= Self.smallestList, let start = written.baseAddress else { return nil }
        for index in lists.indices where lists[index].count == written.count {
            let same = lists[index].withUnsafeBufferPointer { memcmp($0.baseAddress!, start, written.count) == 0 }
            if same { return headers[index] }
        }
        return nil
    }

    /// Keeps `fields`, read from a list written as `written`, in place of the one kept longest.
    mutating func remember(_ fields: HTTPHeaders, writtenAs written: UnsafeBufferPointer<UInt8>) {
        guard written.count >= Self.smallestList, written.count <= Self.largestList else { return }
        if lists.count < Self.capacity {
            lists.append(Array(written))
            headers.append(fields)
        } else {
            lists[next] = Array(written)
            headers[next] = fields
            next = (next + 1) % Self.capacity
        }
    }
}
