import TaplineFlow

/// An encoder's per-flow body byte counts (seen and stored, each direction), which
/// tell it where to truncate and what `requestEnd`/`responseEnd` report.
///
/// A flow has counts from its first body chunk until its `flowEnded`; on a busy
/// HTTP/2 connection that is a dozen flows at a time (each response's body and end
/// are encoded when the upstream's bytes arrive, its `flowEnded` once the client
/// stream closed). Those live in a short array searched linearly; only beyond
/// `nearbyLimit` live flows do counts go to a dictionary. Lookups that the array
/// answers, and any lookup while the dictionary is empty, hash nothing (SipHash per
/// body chunk was a visible share of a proxied HTTP/2 request).
///
/// Invariant: a flow's counts are in at most one place, the array or the
/// dictionary; a flow in neither has seen no body bytes. Confined to its
/// encoder's thread.
struct CaptureBodyCounters {
    struct Counts {
        var requestSeen: UInt64 = 0
        var requestStored: UInt64 = 0
        var responseSeen: UInt64 = 0
        var responseStored: UInt64 = 0
    }

    /// How many flows the array holds before the dictionary takes more.
    static let nearbyLimit = 32

    /// A nearby flow and its counts, side by side: one array to search, grow and
    /// check for uniqueness (two parallel arrays cost two of each per update).
    private struct Entry {
        var flow: FlowID
        var counts: Counts
    }

    private var nearby: [Entry] = []
    private var others: [FlowID: Counts] = [:]
    /// Where the last lookup found its flow in `nearby`, tried before the search: a
    /// flow's lookups come in runs (a chunk's counts read, then stored; its direction's
    /// end right after), so with a dozen flows live most lookups cost one comparison.
    /// Only a hint: the flow at it is compared before it is used.
    private var lastNearbyIndex = 0

    private mutating func nearbyIndex(_ flow: FlowID) -> Int? {
        let hint = lastNearbyIndex
        let found: Int? = nearby.withUnsafeBufferPointer { entries in
            if hint < entries.count, entries[hint].flow == flow { return hint }
            for index in entries.indices where entries[index].flow == flow { return index }
            return nil
        }
        if let found { lastNearbyIndex = found }
        return found
    }

    /// The counts of `flow` (all zero for a flow without body bytes so far).
    subscript(flow: FlowID) -> Counts {
        mutating get {
            if let index = nearbyIndex(flow) { return nearby[index].counts }
            return others.isEmpty ? Counts() : others[flow] ?? Counts()
        }
    }

    /// Stores the counts of `flow`.
    mutating func set(_ counts: Counts, for flow: FlowID) {
        if let index = nearbyIndex(flow) {
            nearby[index].counts = counts
        } else if nearby.count < Self.nearbyLimit && (others.isEmpty || others[flow] == nil) {
            if nearby.capacity == 0 { nearby.reserveCapacity(Self.nearbyLimit) }  // never regrown
            lastNearbyIndex = nearby.count
            nearby.append(Entry(flow: flow, counts: counts))
        } else {
            others[flow] = counts
        }
    }

    /// Forgets `flow` (it ended).
    mutating func remove(_ flow: FlowID) {
        if let index = nearbyIndex(flow) {
            nearby.swapAt(index, nearby.count - 1)
            nearby.removeLast()
        } else if !others.isEmpty {
            others[flow] = nil
        }
    }
}
