/// What a `ReplayExchange` tells the `ReplayConnection` that made it (held weakly: the
/// connection owns its exchanges), rather than through two closures made per exchange.
///
/// Thread ownership: called on the exchange's loop.
protocol ReplayExchangeOwner: AnyObject {
    /// `exchange` failed on a reused HTTP/1.1 connection the server had closed and may go
    /// once more (`StaleConnectionRetryRule`): it wants a new connection.
    func exchangeWantsNewConnection(_ exchange: ReplayExchange)

    /// `exchange` ended (once): its `flowEnded` is recorded.
    func exchangeEnded(_ exchange: ReplayExchange)
}
