import TaplineFlow
import TaplineHTTPClient

extension ProxyContext {
    /// Records a client connection turned away before any request as a `tunnel` flow
    /// that ended at once with `error` and no bytes (a refused SOCKS5 handshake, a
    /// transparent connection with no usable destination). On the loop.
    func recordRefusedConnection(_ info: ClientConnectionInfo, scheme: String, authority: String, error: FlowError) {
        let flow = nextFlowID()
        let now = Timestamp.now()
        record(.flowStarted(flow: flow, connection: info.id, kind: .tunnel, scheme: scheme, authority: authority, time: now))
        var timings = FlowTimings()
        timings.requestStart = now
        timings.done = now
        record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 0, bytesFromServer: 0, error: error, time: now))
    }
}
