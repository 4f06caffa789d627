import Synchronization
import TaplineFlow

/// Hands out the replay session's flow and connection ids, once each, from 1, to the
/// runners of every loop of one replay (`ReplayRunnerGroup`): an atomic add per flow or
/// connection, never per byte.
///
/// Thread ownership: shared by the replay's loops; safe from any thread.
final class ReplaySessionIDs: Sendable {
    private let lastFlow = Atomic<UInt64>(0)
    private let lastConnection = Atomic<UInt64>(0)

    func nextFlowID() -> FlowID { FlowID(lastFlow.add(1, ordering: .relaxed).newValue) }

    func nextConnectionID() -> ConnectionID { ConnectionID(lastConnection.add(1, ordering: .relaxed).newValue) }
}
