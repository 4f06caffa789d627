/// What `HTTP2ConnectionDeadlines` asks of the connection it times (`HTTP2ProxyHandler`):
/// each call says which deadline passed, and the owner decides what that means now.
///
/// Thread ownership: called on the connection's loop, from a timer callback (never
/// from inside a call the owner made to the deadlines).
protocol HTTP2ConnectionDeadlinesOwner: AnyObject {
    /// The response timer fired: the owner collects its late streams with
    /// `HTTP2ConnectionDeadlines.takeExpiredResponseDeadlines(among:)` and answers them.
    func responseDeadlinesPassed()
    /// The idle timeout passed since the connection last had no stream in flight.
    func idleTimeoutPassed()
    /// The client's preface (magic and first SETTINGS) did not arrive in time.
    func prefaceTimeoutPassed()
    /// The streams accepted before the client was told to calm down had the idle timeout to finish.
    func calmDownTimeoutPassed()
}
