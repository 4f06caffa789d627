/// The queries a DNS forwarder has sent on and not yet seen answered: each gets an
/// id of its own on the upstream side (clients choose theirs independently, so two
/// may send the same one), mapped back to the client's id and to whoever asked.
/// Pure: no I/O; times are given in milliseconds by the caller.
///
/// Invariants: at most `capacity` entries; an entry older than `lifetime` is gone
/// (its answer, if it ever comes, is dropped — the client has retried by then).
struct DNSQueryIDMap<Client> {
    struct Entry {
        let clientID: UInt16
        let client: Client
        let sentAt: Int64
    }

    let capacity: Int
    let lifetime: Int64
    private var entries: [UInt16: Entry] = [:]
    private var nextID: UInt16

    init(capacity: Int = 4096, lifetime: Int64 = 10_000, firstID: UInt16 = 1) {
        self.capacity = capacity
        self.lifetime = lifetime
        nextID = firstID
    }

    var count: Int { entries.count }

    /// Records a query from `client` with id `clientID`; returns the id to send it
    /// upstream with, or nil when `capacity` queries are pending (drop it: the client retries).
    mutating func forward(clientID: UInt16, client: Client, now: Int64) -> UInt16? {
        expire(now: now)
        guard entries.count < capacity else { return nil }
        while entries[nextID] != nil { nextID &+= 1 }
        let id = nextID
        nextID &+= 1
        entries[id] = Entry(clientID: clientID, client: client, sentAt: now)
        return id
    }

    /// The pending query an upstream answer with id `upstreamID` belongs to, removed;
    /// nil for an answer nobody is waiting for (late, duplicated or forged).
    mutating func answer(upstreamID: UInt16, now: Int64) -> Entry? {
        expire(now: now)
        return entries.removeValue(forKey: upstreamID)
    }

    private mutating func expire(now: Int64) {
        guard !entries.isEmpty else { return }
        entries = entries.filter { now - $0.value.sentAt < lifetime }
    }
}
