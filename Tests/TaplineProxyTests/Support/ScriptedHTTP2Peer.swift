import TaplineHTTP2
import TaplineTestSupport

/// A peer of an `HTTP2ProxyHandler` under test (an h2 client, or an h2 origin) on one
/// `ScriptedByteStream`: the peer's `HTTP2Session`, how much of what the handler wrote
/// it has read, and the events its session reported. The test moves the bytes itself
/// (`carry`), so the order of events on the handler's sides is the script's.
///
/// Thread ownership: used only on the handler's loop (`@unchecked Sendable` so a test's
/// script may capture it).
final class ScriptedHTTP2Peer: @unchecked Sendable {
    let stream: ScriptedByteStream
    let session: HTTP2Session
    private var taken = 0
    /// What the peer's session reported so far.
    private(set) var events: [HTTP2Event] = []

    init(stream: ScriptedByteStream, session: HTTP2Session) {
        self.stream = stream
        self.session = session
    }

    /// One round: the peer's output is read by the handler, what the handler wrote since
    /// the last round goes to the peer. Returns the bytes moved.
    @discardableResult
    func carry() -> Int {
        let toHandler = session.takeOutput()
        if !toHandler.isEmpty { stream.receive(toHandler) }
        let toPeer = Array(stream.written.dropFirst(taken))
        taken += toPeer.count
        if !toPeer.isEmpty { _ = session.receive(toPeer) }
        events += session.takeEvents()
        return toHandler.count + toPeer.count
    }

    /// Carries bytes until neither side has more to say.
    func settle() {
        while carry() > 0 {}
    }

    /// The `:path` of every request the peer (as an origin) received, in order.
    var requestedPaths: [String] {
        events.compactMap { event in
            guard case .headers(_, let fields, .request, _) = event else { return nil }
            return fields.first(name: ":path")
        }
    }

    /// The DATA the peer received on stream `id`, as text.
    func body(stream id: Int32) -> String {
        let bytes = events.flatMap { event -> [UInt8] in
            guard case .data(id, let bytes) = event else { return [] }
            return Array(bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The `:status` of every response head the peer (as a client) received, in order.
    var responseStatuses: [String] {
        events.compactMap { event in
            guard case .headers(_, let fields, .response, _) = event else { return nil }
            return fields.first(name: ":status")
        }
    }
}
