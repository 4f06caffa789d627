/// The spare `HTTP2StreamLeg`s of one owner of HTTP/2 stream legs, reused for its next
/// streams instead of allocating and freeing a leg object per request (a leg is larger
/// than glibc's fast bins, so each one cost a slow-path malloc and free:
/// docs/performance.md).
///
/// Invariant: a spare leg is detached (no stream, no owner, no tunnel, no held events)
/// and referenced by nothing but this recycler, so no event of its old stream can reach
/// it and nobody can call it for its old request. `recycle` takes a leg back only when
/// both hold (`isKnownUniquelyReferenced`); any other leg is simply let go. At most
/// `capacity` legs wait; `removeAll` lets them go with the connection they last served.
///
/// Thread ownership: a value owned by one owner, confined to its loop.
public struct HTTP2StreamLegRecycler {
    /// Spare legs kept at most (a connection's streams in flight at once, typically).
    static let capacity = 32

    private var spare: [HTTP2StreamLeg] = []

    public init() {}

    /// Spare legs waiting for reuse.
    public var spareCount: Int { spare.count }

    /// A leg for one request on `connection`, reporting to `owner`: a spare one reset for
    /// it, or a new one.
    public mutating func leg(on connection: HTTP2UpstreamConnection, owner: any HTTP2StreamLegDelegate) -> HTTP2StreamLeg {
        guard !spare.isEmpty else { return HTTP2StreamLeg(connection: connection, owner: owner) }
        let leg = spare.removeLast()
        leg.reuse(on: connection, owner: owner)
        return leg
    }

    /// Takes `leg` out of its owner's hands (it is nil afterwards) and keeps it for reuse
    /// when it is detached and was the last reference to it.
    public mutating func recycle(_ leg: inout HTTP2StreamLeg?) {
        guard spare.count < Self.capacity, isKnownUniquelyReferenced(&leg), let detached = leg, detached.isDetached else {
            leg = nil
            return
        }
        leg = nil
        spare.append(detached)
    }

    /// Lets every spare leg go (the owner's connection is replaced or gone).
    public mutating func removeAll() {
        spare.removeAll()
    }
}
