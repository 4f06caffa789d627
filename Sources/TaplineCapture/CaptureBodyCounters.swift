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

    private var nearbyFlows: [FlowID] = []
    private var nearbyCounts: [Counts] = []
    private var others: [FlowID: Counts] = [:]
    /// Where the last lookup found its flow in `nearbyFlows`, tried before the search: a
    /// flow's lookups come in runs (a chunk's counts read, then stored; its direction's
    /// end right after), so with a dozen flows live most lookups cost one comparison.
    /// Only a hint: the flow at it is compared before it is used.
    private var lastNearbyIndex = 0

    private mutating func nearbyIndex(_ flow: FlowID) -> Int? {
        let hint = lastNearbyIndex
        let found: Int? = nearbyFlows.withUnsafeBufferPointer { flows in
            if hint < flows.count, flows[hint] == flow { return hint }
            for index in flows.indices where flows[index] == flow { return index }
            return nil
        }
        if let found { lastNearbyIndex = found }
        return found
    }

    /// The counts of `flow` (all zero for a flow without body bytes so far).
    subscript(flow: FlowID) -> Counts {
        mutating get {
            if let index = nearbyIndex(flow) { return nearbyCounts[index] }
            return others.isEmpty ? Counts() : others[flow] ?? Counts()
        }
    }

    /// Stores the counts of `flow`.
    mutating func set(_ counts: Counts, for flow: FlowID) {
        if let index = nearbyIndex(flow) {
            nearbyCounts[index] = counts
        } else if nearbyFlows.count < Self.nearbyLimit && (others.isEmpty || others[flow] == nil) {
            lastNearbyIndex = nearbyFlows.count
            nearbyFlows.append(flow)
            nearbyCounts.append(counts)
        } else {
            others[flow] = counts
        }
    }

    /// Forgets `flow` (it ended).
    mutating func remove(_ flow: FlowID) {
        if let index = nearbyIndex(flow) {
            nearbyFlows.swapAt(index, nearbyFlows.count - 1)
            nearbyFlows.removeLast()
            nearbyCounts.swapAt(index, nearbyCounts.count - 1)
            nearbyCounts.removeLast()
        } else if !others.isEmpty {
            others[flow] = nil
        }
    }
}
