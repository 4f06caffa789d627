/// What `HTTP2ConnectionDeadlines` keeps a response deadline on: a stream waiting for
/// its upstream's first response byte (`HTTP2StreamExchange`). The deadline lives on
/// the stream itself, so arming one costs a store, and no table or closure per stream.
///
/// Thread ownership: confined to the loop of the connection the stream belongs to.
protocol HTTP2ResponseDeadlineHolder: AnyObject {
    /// The client's stream id: expired streams are answered in this order.
    var clientStream: Int32 { get }
    /// Monotonic nanoseconds (the deadlines' clock) by which the upstream must start its
    /// response; nil once it has, or while no upstream stream is open.
    var responseDeadline: UInt64? { get set }
}
