extension CapturedSession {
    /// Reads the session in `directory` as `open` does (the same checks, errors and
    /// warnings), but holds no flow: each is handed to `onFlow` once, as soon as it is
    /// whole (its `flowEnded` line; a flow that never ended, at the end of the file, in
    /// id order), with its position in the returned `CapturedFlowIndex`, which can read
    /// it again. What is held meanwhile is the flows in progress at one point of the
    /// file, the session's connections and the index (`CapturedFlowIndex`'s bound).
    ///
    /// `detail` says what of each flow is assembled (`CapturedFlowDetail`); the warnings
    /// are the same either way, but for a line `.replayPlan` takes by its prefix alone
    /// that is damaged after it (the index finds it when it reads its flow again) or an
    /// end line it so takes whose `capturedBytes` disagrees with the body lines.
    ///
    /// The returned session has the metadata, connections and warnings, and no flows.
    /// A line of a flow after its `flowEnded` is not part of it here (`tapline import`
    /// writes a HAR entry's `extension` line before its `flowEnded`; sessions imported
    /// before 2026-12-05 have it after).
    ///
    /// - Throws: as `open`.
    public static func stream(directory: String, detail: CapturedFlowDetail = .whole,
                              onFlow: (CapturedFlow, Int) -> Void) throws(CaptureError) -> (session: CapturedSession, index: CapturedFlowIndex) {
        let metadata = try SessionMetadata.read(directory: directory)
        var assembler = CapturedSessionAssembler(directory: directory, detail: detail)
        let index = CapturedFlowIndex(directory: directory, detail: detail)
        var linesOfFlow: [UInt64: [(offset: UInt64, length: UInt32)]] = [:]
        // The lines of the flow the last line belonged to stay out of `linesOfFlow` while
        // its lines follow one another (as they mostly do): no hashing per line, and one
        // array reused for flow after flow.
        var runFlow: UInt64?
        var runLines: [(offset: UInt64, length: UInt32)] = []
        let isBeingWritten = try readEvents(directory: directory, metadata: metadata, into: &assembler) { number, offset, line, assembler in
            assembler.apply(bytes: line, number: number)
            guard let id = assembler.lastLineFlow else { return }
            if id != runFlow {
                if let previous = runFlow {
                    linesOfFlow[previous] = runLines
                    runLines = []
                }
                if !linesOfFlow.isEmpty, let stashed = linesOfFlow.removeValue(forKey: id) {
                    runLines = stashed
                } else {
                    runLines.removeAll(keepingCapacity: true)
                }
                runFlow = id
            }
            runLines.append((offset, UInt32(clamping: line.count)))
            if assembler.lastLineEndedFlow, let flow = assembler.takeFlow(id) {
                onFlow(flow, index.add(lines: runLines))
                runFlow = nil
            }
        }
        if let id = runFlow { linesOfFlow[id] = runLines }
        for id in assembler.remainingFlowIDs {
            guard let flow = assembler.takeFlow(id) else { continue }
            onFlow(flow, index.add(lines: linesOfFlow.removeValue(forKey: id) ?? []))
        }
        index.finishAdding()
        return (assembler.finish(metadata: metadata, isBeingWritten: isBeingWritten), index)
    }
}
