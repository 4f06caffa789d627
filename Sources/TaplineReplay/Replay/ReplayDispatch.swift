/// One send of one flow: which round (`--repeat`), which recorded connection, which
/// of its flows. What `ReplayScheduler` says to send and hears back as finished.
public struct ReplayDispatch: Sendable, Hashable {
    /// 0-based round of `--repeat`.
    public let round: Int
    /// Index of the recorded connection in the schedule.
    public let connection: Int
    /// Index of the flow within its connection.
    public let position: Int

    public init(round: Int, connection: Int, position: Int) {
        self.round = round
        self.connection = connection
        self.position = position
    }
}
