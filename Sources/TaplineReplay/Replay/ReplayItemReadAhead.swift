import Foundation
import TaplineCapture

/// Reads a streamed plan's items (`ReplayPlan.item`: a flow read again from the session
/// and its request made) ahead of the loop that sends them, on a thread of its own
/// (`tapline-readahead`). That read is about a quarter of what a replayed flow costs its
/// loop, and under `--pace none` the loop's core is what bounds the replay while another
/// core has room (docs/performance.md).
///
/// Which items: the runner starts its recorded connections in order and sends each
/// one's flows in order (`ReplayScheduler`, first round). The read-ahead keeps up to
/// `depth` items ready for each connection from the first unfinished one to `lookahead`
/// past the last one the loop has taken from, at most `capacity` in all. The loop takes
/// an item with `take`; one that is not ready (the read-ahead fell behind, or a later
/// round of `--repeat`) is nil, the loop reads it itself and the read-ahead skips it. So
/// each item of the first round is read once, by one of the two, and an item is the
/// same whoever read it: what is sent and compared does not depend on timing.
///
/// Wake-ups: the thread sleeps when every connection it serves is full or done; the
/// loop wakes it once `wakeBatch` items were taken since, or a connection further on was
/// started (one futex a batch, not one a flow).
///
/// Each item's stored response body is read with it when it is at most 4 KiB
/// (`ReplayItem.storedResponseBody`): the loop then matches the replayed body against it
/// instead of reading the session's segment files.
///
/// Memory: at most `capacity` items (a flow's recording without its bodies but for a
/// stored response body of up to 4 KiB, and its request), the segment files' read-ahead
/// windows (2 MiB), `depth` slots for each connection with items ready or being read,
/// and two `Int32` a plan item.
///
/// Thread ownership: `take` and `stop` on the runner's loop; the read-ahead's thread
/// reads through its own copy of the plan (`withOwnReader`), which no other thread uses.
/// The state the two share is guarded by `condition`; an item handed over by `take` is
/// the loop's from then on (the read-ahead keeps no reference to it).
final class ReplayItemReadAhead: @unchecked Sendable {
    /// An item read, or why it is skipped (`ReplayPlan.item` threw).
    typealias Read = Result<ReplayItem, ReplaySkippedFlow>

    private struct Connection {
        /// The connection's items (`ReplayScheduledFlow.item`) in the order they are sent.
        let items: [Int]
        /// Position in `items` of the next item to read.
        var cursor = 0
        /// One past the furthest position the loop has taken (read ahead or not): an item
        /// before it that a read in progress brings is dropped. Positions from here to
        /// `cursor` (at most `depth` of them) are ready or being read.
        var passed = 0
        /// The items read and not taken, each in slot `position % depth`, and the position
        /// each slot holds (-1: none). Allocated while the connection has some (`depth`
        /// slots). Two arrays, so a slot is looked at and moved out without copying the item.
        var slots: [Read?] = []
        var slotPositions: [Int] = []
    }

    /// An item picked to be read, outside the lock.
    private struct Pick {
        let item: Int
        let connection: Int
        let position: Int
    }

    private let plan: ReplayPlan
    private let depth: Int
    private let capacity: Int
    private let lookahead: Int
    private let wakeBatch: Int
    private let condition = NSCondition()
    private let finished = DispatchGroup()
    /// The source's segment files, read by the thread (the stored response bodies).
    private let segmentFiles = CaptureSegmentFiles()

    /// Per plan item, its connection (index into `connections`) and position there; -1 for
    /// an item not in this runner's share. Set before the thread starts, then only read.
    private let connectionOf: [Int32]
    private let positionOf: [Int32]

    // Guarded by `condition`.
    private var connections: [Connection]
    /// Items read and not taken, over every connection.
    private var readyCount = 0
    /// One past the furthest connection the loop has taken an item of.
    private var started = 0
    /// No connection before it has items left to read.
    private var firstUnfinished = 0
    /// The connection `nextToRead` fills now.
    private var turn = 0
    private var sleeping = false
    private var takenSinceSleep = 0
    private var stopping = false

    /// Starts reading ahead at once: `connections` is the runner's share of the plan's
    /// (`ReplayPlan.connections`), in the order it starts them; `concurrency` how many it
    /// runs at once. `plan` must read from the session (`ReplayPlan.readsFromSession`);
    /// the read-ahead reads through a copy with its own reader.
    init(plan: ReplayPlan, connections share: [[ReplayScheduledFlow]], concurrency: Int) {
        self.plan = plan.withOwnReader()
        depth = 8
        capacity = min(2_048, max(32, 8 * concurrency))
        lookahead = max(1, concurrency)
        wakeBatch = max(1, min(128, capacity / 4))
        connections = share.map { Connection(items: $0.map(\.item)) }
        var connectionOf = [Int32](repeating: -1, count: plan.itemCount)
        var positionOf = [Int32](repeating: -1, count: plan.itemCount)
        for (connection, flows) in share.enumerated() {
            for (position, flow) in flows.enumerated() where connectionOf[flow.item] < 0 {
                connectionOf[flow.item] = Int32(connection)
                positionOf[flow.item] = Int32(position)
            }
        }
        self.connectionOf = connectionOf
        self.positionOf = positionOf
        CaptureThread.start(named: "tapline-readahead", finished: finished) { [self] in run() }
    }

    /// Item `number` if it was read ahead (moved out: the loop owns it now); nil when it was
    /// not, and then the read-ahead will not read it: the caller reads it (`ReplayPlan.item`).
    /// A connection's items are taken in order (as the scheduler sends them): one taken
    /// drops any of its connection's before it still held, and one taken again is nil.
    func take(_ number: Int) -> Read? {
        condition.lock()
        let connection = number < connectionOf.count ? Int(connectionOf[number]) : -1
        guard connection >= 0 else {
            condition.unlock()
            return nil
        }
        var wake = false
        if connection >= started {
            started = connection + 1
            wake = true
        }
        takenSinceSleep += 1
        if takenSinceSleep >= wakeBatch { wake = true }
        let position = Int(positionOf[number])
        var read: Read?
        if position >= connections[connection].passed {
            read = takeSlot(connection, position)
            // Items the loop went past are dropped (it takes each connection's in order: none).
            let passed = connections[connection].passed
            for skipped in passed..<min(position, passed + depth) { _ = takeSlot(connection, skipped) }
            connections[connection].passed = position + 1
            if connections[connection].cursor <= position { connections[connection].cursor = position + 1 }
            // Nothing ready nor being read for it: its slots go until some are.
            if connections[connection].passed == connections[connection].cursor {
                connections[connection].slots = []
                connections[connection].slotPositions = []
            }
        }
        let signal = wake && sleeping
        if signal { sleeping = false }
        condition.unlock()
        // Signalled after unlocking, so the thread it wakes does not wait for the lock.
        if signal { condition.broadcast() }
        return read
    }

    /// The item read ahead at `position` of `connection`, moved out of its slot. Called with the lock held.
    private func takeSlot(_ connection: Int, _ position: Int) -> Read? {
        let index = position % depth
        guard index < connections[connection].slotPositions.count, connections[connection].slotPositions[index] == position else {
            return nil
        }
        connections[connection].slotPositions[index] = -1
        readyCount -= 1
        return connections[connection].slots[index].take()
    }

    /// Stops the thread and drops what it read and was not taken; returns once the thread
    /// has ended (at most one batch of reads later). Call once, on the loop.
    func stop() {
        condition.lock()
        stopping = true
        for index in connections.indices {
            connections[index].slots = []
            connections[index].slotPositions = []
        }
        readyCount = 0
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }

    /// Blocks until the thread has nothing to read (every connection in reach full or
    /// done) and sleeps; returns how many items are ready then. For tests.
    func waitUntilIdle() -> Int {
        condition.lock()
        defer { condition.unlock() }
        while !sleeping && !stopping { condition.wait() }
        return readyCount
    }

    // MARK: - The read-ahead's thread

    private func run() {
        condition.lock()
        while !stopping {
            let picks = nextToRead()
            guard !picks.isEmpty else {
                sleeping = true
                takenSinceSleep = 0
                condition.broadcast()  // (to `waitUntilIdle`)
                condition.wait()
                sleeping = false
                continue
            }
            condition.unlock()
            // (Optional, so that each read is moved out of the batch into its slot, not copied.)
            var reads: [Read?] = []
            reads.reserveCapacity(picks.count)
            for pick in picks { reads.append(read(pick.item)) }
            condition.lock()
            guard !stopping else { break }
            // Each moved into its slot unless the loop went past it meanwhile.
            for (index, pick) in picks.enumerated() where pick.position >= connections[pick.connection].passed {
                if connections[pick.connection].slots.isEmpty {
                    connections[pick.connection].slots = [Read?](repeating: nil, count: depth)
                    connections[pick.connection].slotPositions = [Int](repeating: -1, count: depth)
                }
                connections[pick.connection].slots[pick.position % depth] = reads[index].take()
                connections[pick.connection].slotPositions[pick.position % depth] = pick.position
                readyCount += 1
            }
        }
        condition.unlock()
        segmentFiles.closeAll()
    }

    /// Item `number` read (`ReplayPlan.item`) with its stored response body, or why it is skipped.
    private func read(_ number: Int) -> Read {
        do throws(ReplaySkippedFlow) {
            return .success(try plan.item(number) { self.storedResponseBody(of: $0) })
        } catch {
            return .failure(error)
        }
    }

    /// The source's whole stored response body when it is at most `storedBodyLimit` bytes,
    /// so the loop does not read it to match the replayed one against; nil when it is
    /// larger, empty, or cannot be read (the loop then reads it, and says why it could not).
    private func storedResponseBody(of source: CapturedFlow) -> [UInt8]? {
        let body = source.responseBody
        guard body.capturedBytes > 0, body.capturedBytes <= Self.storedBodyLimit else { return nil }
        let count = Int(body.capturedBytes)
        let reader = CapturedBodyReader(body, sharedFiles: segmentFiles)
        defer { reader.close() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        do {
            while bytes.count < count {
                let slice = try reader.nextSlice(maxBytes: count - bytes.count)
                guard !slice.isEmpty else { return nil }
                bytes += slice
            }
        } catch {
            return nil
        }
        return bytes
    }

    /// Largest stored response body read with its flow.
    static let storedBodyLimit: UInt64 = 4_096

    /// The next items to read, at most `batch` (their connections' cursors moved past
    /// them); none when every connection in reach is full or done, or `capacity` items are
    /// ready. The connections in reach are filled in turn, each up to `depth` before the
    /// next (its items are near one another in the session). Called with the lock held.
    private func nextToRead() -> [Pick] {
        var picks: [Pick] = []
        while firstUnfinished < connections.count,
              connections[firstUnfinished].cursor >= connections[firstUnfinished].items.count {
            firstUnfinished += 1
        }
        let end = min(connections.count, started + lookahead)
        guard firstUnfinished < end else { return [] }
        if turn < firstUnfinished || turn >= end { turn = firstUnfinished }
        var room = min(Self.batch, capacity - readyCount)
        // Each connection in reach once.
        var looked = 0
        while room > 0, looked < end - firstUnfinished {
            let connection = connections[turn]
            let wanted = min(room, depth - (connection.cursor - connection.passed), connection.items.count - connection.cursor)
            if wanted > 0 {
                for position in connection.cursor..<(connection.cursor + wanted) {
                    picks.append(Pick(item: connection.items[position], connection: turn, position: position))
                }
                connections[turn].cursor += wanted
                room -= wanted
            }
            turn = turn + 1 == end ? firstUnfinished : turn + 1
            looked += 1
        }
        return picks
    }

    /// Items read between two takings of the lock by the read-ahead's thread.
    private static let batch = 32
}
