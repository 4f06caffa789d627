import TaplineNet

/// The `ReplayProgressWatch`es of one `ReplayConnection`'s exchanges: each exchange takes
/// one while it waits for progress and gives it back when it no longer does, for the
/// next exchange. At most as many as the connection ever had exchanges waiting at once
/// (one over HTTP/1.1; its concurrent streams over HTTP/2).
///
/// Thread ownership: confined to its loop; shared by the connection and its exchanges.
final class ReplayProgressWatches {
    private let loop: EventLoop
    private var spare: [ReplayProgressWatch] = []

    init(loop: EventLoop) {
        self.loop = loop
    }

    func take() -> ReplayProgressWatch {
        spare.popLast() ?? ReplayProgressWatch(loop: loop)
    }

    /// Stops `watch` and keeps it for the next `take`.
    func giveBack(_ watch: ReplayProgressWatch) {
        watch.stop()
        spare.append(watch)
    }
}
