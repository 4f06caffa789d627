/// Decides when each flow of a replay is sent: pure (events in, actions out; the
/// time is whatever clock the driver passes, so tests use a fake one).
///
/// The unit of work is a recorded connection in one round (`--repeat`): its flows
/// go in recorded order, each once the previous one of the connection is finished,
/// or at once when it overlapped it in the recording (`overlapsPrevious`: HTTP/2
/// streams in flight together).
/// - `pace none`: up to `concurrency` connections at once, rounds one after the other
///   in the queue; a flow goes as soon as its connection allows.
/// - `pace recorded`: a flow goes no earlier than its round's start plus its recorded
///   offset divided by `speed` (and, as always, not before its connection allows);
///   a round starts when the previous one has finished; `concurrency` does not apply.
/// - `flowsPerSecond`: on top of either, starts are at least `1/rate` apart.
///
/// Invariants: every dispatch is sent once; `finished` is returned only once every
/// dispatch was reported finished. `sendable` holds, in start order, exactly the active
/// connections whose next flow waits for nothing but its time (it may be due now): the
/// others wait for a flow to finish, or have sent every flow. So `actions(at:)` looks only
/// at connections that can send, and a finished flow costs O(log n) (its connection goes
/// back into `sendable`), not a pass over every connection in progress.
/// Memory: per recorded connection in progress, one flag per flow; the schedule itself
/// (one small value per flow).
///
/// Thread ownership: a value owned by its driver.
public struct ReplayScheduler {
    /// One recorded connection in one round, once started.
    private struct ActiveConnection {
        let round: Int
        let connection: Int
        /// The next flow to send.
        var next = 0
        var finished: [Bool]
        var unfinished: Int
    }

    private let connections: [[ReplayScheduledFlow]]
    private let pacing: ReplayPacing
    /// Index of the next (round, connection) to start: `round * connections.count + connection`.
    private var nextUnit = 0
    private var active: [Int: ActiveConnection] = [:]
    /// Active units whose next flow waits only for its time, ascending: units start in
    /// ascending order, so this is start order, the stable sending order.
    private var sendable: [Int] = []
    /// `pace recorded`: when the current round started, and how many of its connections are unfinished.
    private var roundStart: Int64 = 0
    private var roundUnfinished = 0
    private var currentRound = -1
    /// `flowsPerSecond`: the earliest time the next flow may start.
    private var nextRateSlot: Int64 = .min
    private var started = false

    public init(connections: [[ReplayScheduledFlow]], pacing: ReplayPacing) {
        self.connections = connections.filter { !$0.isEmpty }
        self.pacing = pacing
    }

    /// Dispatches in all (flows times rounds).
    public var totalDispatches: Int { connections.reduce(0) { $0 + $1.count } * pacing.repeatCount }

    /// The flow of the schedule a dispatch sends.
    public func flow(_ dispatch: ReplayDispatch) -> ReplayScheduledFlow {
        connections[dispatch.connection][dispatch.position]
    }

    private var unitCount: Int { connections.count * pacing.repeatCount }

    /// The driver started at `now`.
    public mutating func start(at now: Int64) {
        started = true
        roundStart = now
    }

    /// A sent flow is done (its response ended or it failed).
    ///
    /// - Returns: `connectionIsDone(dispatch)` after it, found by the same lookup.
    @discardableResult
    public mutating func finished(_ dispatch: ReplayDispatch, at now: Int64) -> Bool {
        let unit = dispatch.round * connections.count + dispatch.connection
        // One lookup, and the entry changed in place through its position: a copy of it
        // would make this write copy its flags (a flag per flow).
        guard let entry = active.index(forKey: unit) else { return true }
        guard !active.values[entry].finished[dispatch.position] else { return false }
        let (unfinished, unblocksNext) = Self.markFinished(dispatch.position, in: &active.values[entry],
                                                           flowCount: connections[dispatch.connection].count)
        if unblocksNext { insertSendable(unit) }
        guard unfinished == 0 else { return false }
        active.remove(at: entry)
        removeSendable(unit)
        roundUnfinished -= 1
        if roundUnfinished == 0 { roundStart = now } // `pace recorded`: the next round starts now
        return true
    }

    /// Flags flow `position` finished; returns how many flows of the connection are left
    /// unfinished, and whether its next flow to send waited for this one.
    private static func markFinished(_ position: Int, in connection: inout ActiveConnection,
                                     flowCount: Int) -> (unfinished: Int, unblocksNext: Bool) {
        connection.finished[position] = true
        connection.unfinished -= 1
        return (connection.unfinished, position == connection.next - 1 && connection.next < flowCount)
    }

    private mutating func insertSendable(_ unit: Int) {
        let at = sendablePosition(unit)
        if at == sendable.count || sendable[at] != unit { sendable.insert(unit, at: at) }
    }

    private mutating func removeSendable(_ unit: Int) {
        let at = sendablePosition(unit)
        if at < sendable.count, sendable[at] == unit { sendable.remove(at: at) }
    }

    /// Where `unit` is or would go in `sendable` (binary search).
    private func sendablePosition(_ unit: Int) -> Int {
        var low = 0, high = sendable.count
        while low < high {
            let middle = (low + high) / 2
            if sendable[middle] < unit { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether `dispatch`'s connection has no flow left to send or finish.
    public func connectionIsDone(_ dispatch: ReplayDispatch) -> Bool {
        active[dispatch.round * connections.count + dispatch.connection] == nil
    }

    /// What to do at `now`: the flows due (in order), then one `wait` when a flow waits
    /// for its time, or `finished`; nothing more when every flow left waits for another
    /// to finish.
    public mutating func actions(at now: Int64) -> [ReplaySchedulerAction] {
        precondition(started, "ReplayScheduler.actions before start")
        var actions: [ReplaySchedulerAction] = []
        startConnections()
        var earliest: Int64?
        var kept = 0
        for index in sendable.indices {
            let unit = sendable[index]
            let flows = connections[unit % connections.count]
            // In place (one lookup), and `sendable` is compacted as it goes: no copy of either.
            // (`sendable` holds only active units.)
            let entry = active.index(forKey: unit)!
            if let due = Self.sendDue(&active.values[entry], flows: flows, pacing: pacing, roundStart: roundStart, now: now,
                                      nextRateSlot: &nextRateSlot, into: &actions) {
                earliest = min(earliest ?? due, due)
                sendable[kept] = unit
                kept += 1
            }
        }
        sendable.removeLast(sendable.count - kept)
        if nextUnit == unitCount, active.isEmpty {
            actions.append(.finished)
        } else if let earliest {
            actions.append(.wait(untilMicroseconds: earliest))
        }
        return actions
    }

    /// Sends `connection`'s flows that are due at `now`, in order; returns when the next
    /// one is due, if it waits for its time, or nil when it waits for the previous flow
    /// to finish or every flow was sent (the connection leaves `sendable`).
    private static func sendDue(_ connection: inout ActiveConnection, flows: [ReplayScheduledFlow], pacing: ReplayPacing,
                                roundStart: Int64, now: Int64, nextRateSlot: inout Int64,
                                into actions: inout [ReplaySchedulerAction]) -> Int64? {
        while connection.next < flows.count {
            let flow = flows[connection.next]
            let previousDone = connection.next == 0 || flow.overlapsPrevious || connection.finished[connection.next - 1]
            guard previousDone else { return nil }
            var due = pacing.pace == .recorded
                ? roundStart + Int64((Double(flow.offsetMicroseconds) / pacing.speed).rounded()) : now
            due = max(due, nextRateSlot)
            if due > now { return due }
            actions.append(.send(ReplayDispatch(round: connection.round, connection: connection.connection,
                                                position: connection.next)))
            connection.next += 1
            if let rate = pacing.flowsPerSecond {
                nextRateSlot = max(nextRateSlot, now) + Int64((1_000_000 / rate).rounded())
            }
        }
        return nil
    }

    /// Starts the connections that may start now: under `pace none` while fewer than
    /// `concurrency` are active; under `pace recorded` every connection of the current
    /// round, once the previous round is finished.
    private mutating func startConnections() {
        while nextUnit < unitCount {
            let round = nextUnit / connections.count
            switch pacing.pace {
            case .none:
                guard active.count < pacing.concurrency else { return }
            case .recorded:
                guard round == currentRound || roundUnfinished == 0 else { return }
            }
            if round != currentRound {
                currentRound = round
                roundUnfinished = 0
            }
            let connection = nextUnit % connections.count
            let count = connections[connection].count
            active[nextUnit] = ActiveConnection(round: round, connection: connection,
                                                finished: [Bool](repeating: false, count: count), unfinished: count)
            sendable.append(nextUnit)  // its first flow waits for nothing but its time; the largest unit yet
            roundUnfinished += 1
            nextUnit += 1
        }
    }
}
