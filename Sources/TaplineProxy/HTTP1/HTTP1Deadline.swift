/// The one timeout an `HTTP1ProxyHandler` runs at any time, and what it is for
/// (`HTTP1ExchangeStateMachine` decides which, and what its expiry means).
enum HTTP1Deadline: Equatable {
    /// No exchange in flight and no byte of the next request: the connection is closed quietly.
    case idle
    /// A request head is arriving, or the connection's first one is due: 408 (silence: closed).
    case header
    /// Waiting for the upstream's first response byte: 504.
    case response
}
