/// A set of flow ids held as one run of consecutive ids and a hash set of the rest:
/// what `CapturedSessionAssembler` keeps of the flows it took out (`takeFlow`), to tell a
/// later line of one (dropped without a warning) from a line of a flow never started.
///
/// Flows mostly end, and are taken out, about in id order: the run then holds nearly
/// every id (16 bytes, no hashing), and the hash set those taken out before the run
/// reaches them (about as many as the flows in progress at once), each moved into the run
/// when it does. Ids taken in any other order are still held, in the hash set (8 bytes
/// each and its table's room): the set is exact either way.
///
/// Thread ownership: a value, used on its owner's thread.
struct CapturedFlowIDSet {
    /// Ids held as a run: `run.lowerBound ..< run.upperBound` (empty before the first insert).
    private var run: Range<UInt64> = 0..<0
    /// Ids held outside the run (none of them in it).
    private var others = Set<UInt64>()

    func contains(_ id: UInt64) -> Bool {
        run.contains(id) || (!others.isEmpty && others.contains(id))
    }

    mutating func insert(_ id: UInt64) {
        if run.isEmpty, id != .max {
            run = id..<(id + 1)
        } else if id == run.upperBound, id != .max {
            var end = id + 1
            // Ids taken before the run reached them join it.
            while !others.isEmpty, end != .max, others.remove(end) != nil { end += 1 }
            run = run.lowerBound..<end
        } else if id &+ 1 == run.lowerBound, id != .max {
            var start = id
            while !others.isEmpty, start != 0, others.remove(start - 1) != nil { start -= 1 }
            run = start..<run.upperBound
        } else if !run.contains(id) {
            others.insert(id)
        }
    }

    /// Empties the set, keeping the hash set's storage.
    mutating func removeAll() {
        run = 0..<0
        others.removeAll(keepingCapacity: true)
    }
}
