import TaplineNet

/// The idle keep-alive HTTP/1.1 upstream connections of one HTTP/2 client
/// connection, by target, for its later streams (an h2 client in front of an
/// HTTP/1.1 upstream would otherwise open a connection per stream).
///
/// Bounded: at most `maxIdlePerTarget` idle connections per target (a further
/// one is closed instead of parked); each is closed after `idleMilliseconds`
/// unused, or as soon as the server closes it or sends anything. `take`
/// returns the most recently parked one (the least likely to have timed out
/// at the server). Only connections an `HTTP1ClientLeg` released as `poolable`
/// are parked (in the proxy: `HTTP1ClientLeg.releaseConnection`).
///
/// Thread ownership: confined to `loop`; owned by one client connection's handler
/// (the proxy's `HTTP2ProxyHandler`).
public final class HTTP1UpstreamPool {
    public static let maxIdlePerTarget = 8

    private let loop: EventLoop
    private let idleMilliseconds: Int
    private var idle: [UpstreamTarget: [HTTP1IdleUpstream]] = [:]
    /// After `closeAll`, nothing is parked any more.
    private var closed = false

    public init(loop: EventLoop, idleMilliseconds: Int) {
        self.loop = loop
        self.idleMilliseconds = idleMilliseconds
    }

    /// An idle connection to `target`, taken out of the pool, or nil.
    public func take(for target: UpstreamTarget) -> UpstreamConnection? {
        guard let entry = idle[target]?.popLast() else { return nil }
        if idle[target]?.isEmpty == true { idle[target] = nil }
        return entry.checkOut()
    }

    /// Keeps `connection` (idle, its last exchange complete) for reuse, or closes it
    /// when its target already has `maxIdlePerTarget` idle or the pool was closed.
    public func park(_ connection: UpstreamConnection) {
        let target = connection.target
        guard !closed, idle[target, default: []].count < Self.maxIdlePerTarget else {
            connection.stream.close()
            return
        }
        let entry = HTTP1IdleUpstream(connection: connection, pool: self, loop: loop, idleMilliseconds: idleMilliseconds)
        idle[target, default: []].append(entry)
    }

    /// Called by an entry that closed itself.
    func remove(_ entry: HTTP1IdleUpstream) {
        let target = entry.connection.target
        idle[target]?.removeAll { $0 === entry }
        if idle[target]?.isEmpty == true { idle[target] = nil }
    }

    /// Closes every idle connection; later `park` calls close theirs (client gone, shutdown).
    public func closeAll() {
        closed = true
        let entries = idle.values.flatMap { $0 }
        idle = [:]
        for entry in entries { entry.discard() }
    }
}
