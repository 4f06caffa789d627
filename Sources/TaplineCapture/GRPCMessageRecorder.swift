import TaplineFlow
import TaplineWire

/// Splits the bodies of an encoder's gRPC and gRPC-Web flows into messages as their
/// chunks are recorded: one `GRPCMessageFramer` per flow and direction, fed the chunk
/// the encoder was handed (the framer counts payload bytes and copies none), giving a
/// `CapturedGRPCMessage` for each frame that completes. The encoder writes those as
/// `grpcMessage` lines.
///
/// Sans-I/O; times come in with the calls. Thread ownership: a field of one
/// `CaptureEventEncoder`, so confined to the event loop whose flows it records.
///
/// Invariants:
/// - A flow is tracked from its gRPC request head until `flowEnded`;
///   every other flow costs one emptiness check per body chunk. The tracked flows are
///   in two parallel arrays searched linearly (a loop has a few calls in flight at a
///   time; hashing a flow id per chunk cost more than the framing itself).
/// - The entries of a direction do not depend on how its bytes were cut into chunks
///   (the framer's invariant), only their times do.
/// - The framer sees every byte that passed, also beyond `--max-body-capture`: a message
///   the capture cut is still an entry, with its wire length, marked `truncated`.
/// - After a `.malformed` entry its direction gives no more entries.
struct GRPCMessageRecorder {
    /// One direction of a tracked flow.
    private struct Direction {
        var framer: GRPCMessageFramer
        var nextIndex = 0
        /// The framer failed or the body ended: nothing more to record.
        var isDone = false

        init(framing: GRPCFraming) {
            // No size limit of its own: the peers enforce theirs, the capture only records.
            framer = GRPCMessageFramer(framing: framing, maxMessageBytes: Int(UInt32.max))
        }
    }

    private struct Flow {
        var request: Direction
        var response: Direction
    }

    /// `flowIDs[i]`'s state is `flows[i]`.
    private var flowIDs: [FlowID] = []
    private var flows: [Flow] = []
    /// Reused for each chunk's framer events (no allocation per chunk once grown).
    private var scratch: [GRPCFramerEvent] = []

    /// True when no flow is tracked (the common case: checked before any search).
    var isEmpty: Bool { flowIDs.isEmpty }

    /// Where the last lookup found its flow, tried before the search (a flow's chunks and
    /// ends come in runs); only a hint, compared before it is used.
    private var lastPosition = 0

    private mutating func position(of flow: FlowID) -> Int? {
        let hint = lastPosition
        let found: Int? = flowIDs.withUnsafeBufferPointer { ids in
            if hint < ids.count, ids[hint] == flow { return hint }
            for index in ids.indices where ids[index] == flow { return index }
            return nil
        }
        if let found { lastPosition = found }
        return found
    }

    /// Starts splitting `flow`'s bodies with `framing`, from their first bytes (called
    /// at the request head, before any body chunk). Does nothing for a flow already tracked.
    mutating func track(_ flow: FlowID, framing: GRPCFraming) {
        guard position(of: flow) == nil else { return }
        lastPosition = flowIDs.count
        flowIDs.append(flow)
        flows.append(Flow(request: Direction(framing: framing), response: Direction(framing: framing)))
    }

    /// Feeds a body chunk of `flow` (all of it, stored or not) and appends an entry to
    /// `entries` for each frame it completes, and one for a malformed frame.
    /// - Parameters:
    ///   - storedEnd: how many bytes of the direction the capture has stored, this chunk
    ///     included (an entry whose payload ends beyond is `truncated`).
    ///   - now: the chunk's arrival time; evaluated only when an entry is made.
    mutating func consume(_ bytes: ArraySlice<UInt8>, flow: FlowID, isRequest: Bool, storedEnd: UInt64,
                          now: () -> Timestamp, into entries: inout [CapturedGRPCMessage]) {
        guard let position = position(of: flow) else { return }
        // Changed in place: a copy of the flow's state would make each framer write copy its buffers.
        if isRequest {
            Self.record(bytes, in: &flows[position].request, .request, storedEnd: storedEnd, now: now,
                        scratch: &scratch, into: &entries)
        } else {
            Self.record(bytes, in: &flows[position].response, .response, storedEnd: storedEnd, now: now,
                        scratch: &scratch, into: &entries)
        }
    }

    /// The direction's body ended (`requestEnd`/`responseEnd`): appends a `.malformed`
    /// entry when it ended inside a frame.
    mutating func finish(flow: FlowID, isRequest: Bool, time: Timestamp, into entries: inout [CapturedGRPCMessage]) {
        guard let position = position(of: flow) else { return }
        if isRequest {
            Self.finish(&flows[position].request, .request, time: time, into: &entries)
        } else {
            Self.finish(&flows[position].response, .response, time: time, into: &entries)
        }
    }

    /// The flow is over (`flowEnded`): a direction cut off inside a frame (a reset, a
    /// dropped connection) gets its `.malformed` entry; the flow is forgotten.
    mutating func flowEnded(_ flow: FlowID, time: Timestamp, into entries: inout [CapturedGRPCMessage]) {
        guard let position = position(of: flow) else { return }
        Self.finish(&flows[position].request, .request, time: time, into: &entries)
        Self.finish(&flows[position].response, .response, time: time, into: &entries)
        // The last flow moves into the gap (moved, not swapped: a swap copies both states).
        let last = flowIDs.removeLast()
        let lastFlow = flows.removeLast()
        if position < flows.count {
            flowIDs[position] = last
            flows[position] = lastFlow
        }
    }

    private static func record(_ bytes: ArraySlice<UInt8>, in state: inout Direction, _ direction: BodyDirection,
                               storedEnd: UInt64, now: () -> Timestamp, scratch: inout [GRPCFramerEvent],
                               into entries: inout [CapturedGRPCMessage]) {
        guard !state.isDone else { return }
        if !scratch.isEmpty { scratch.removeAll(keepingCapacity: true) }
        var failure: GRPCFramingError?
        do {
            try state.framer.consume(bytes, into: &scratch)
        } catch {
            failure = error
        }
        guard !scratch.isEmpty || failure != nil else { return }
        let time = now()
        for event in scratch {
            let (frame, kind): (GRPCMessageFrame, CapturedGRPCMessage.Kind)
            switch event {
            case .message(let message): (frame, kind) = (message, .message)
            case .trailers(let trailers, _): (frame, kind) = (trailers, .webTrailers)
            }
            entries.append(CapturedGRPCMessage(
                direction: direction, index: state.nextIndex, kind: kind, compressed: frame.isCompressed,
                wireBytes: frame.length, payloadOffset: UInt64(frame.payloadRange.lowerBound),
                truncated: UInt64(frame.payloadRange.upperBound) > storedEnd, time: time))
            if kind == .message { state.nextIndex += 1 }
        }
        if let failure {
            entries.append(malformed(failure, in: state, direction, time: time))
            state.isDone = true
        }
    }

    private static func finish(_ state: inout Direction, _ direction: BodyDirection, time: Timestamp,
                               into entries: inout [CapturedGRPCMessage]) {
        guard !state.isDone else { return }
        state.isDone = true
        do {
            try state.framer.finish()
        } catch {
            entries.append(malformed(error, in: state, direction, time: time))
        }
    }

    /// The entry for a framing error: the frame it names, with what the prefix declared
    /// when the whole prefix had arrived.
    private static func malformed(_ error: GRPCFramingError, in state: Direction, _ direction: BodyDirection,
                                  time: Timestamp) -> CapturedGRPCMessage {
        let frameOffset: Int
        switch error {
        case .messageTooLarge(_, _, let offset), .reservedFlags(_, let offset), .truncated(_, _, let offset),
             .malformedTrailers(let offset), .dataAfterTrailers(let offset):
            frameOffset = offset
        }
        let pending = state.framer.frameInProgress
        var cut = false
        if case .truncated = error { cut = true }
        return CapturedGRPCMessage(
            direction: direction, index: state.nextIndex, kind: .malformed(reason: error.description, cut: cut),
            compressed: pending?.isCompressed ?? false, wireBytes: pending?.length,
            payloadOffset: UInt64(frameOffset + GRPCMessageFrame.prefixSize), truncated: false, time: time)
    }
}
