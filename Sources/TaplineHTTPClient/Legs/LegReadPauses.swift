/// The set of reasons a leg is paused for, and the one rule both legs apply:
/// reading stops with the first reason and resumes only when the last is gone.
///
/// A value type with no I/O: the leg acts on the transitions it reports.
struct LegReadPauses {
    private(set) var reasons: LegPauseReason = []

    /// Some reason holds reading off.
    var isPaused: Bool { !reasons.isEmpty }

    /// Adds `reason`; true when reading was on until now (the caller stops it).
    mutating func pause(_ reason: LegPauseReason) -> Bool {
        let wasPaused = isPaused
        reasons.insert(reason)
        return !wasPaused
    }

    /// Removes `reason`; true when it was the last one (the caller reads again).
    /// A reason that was not set changes nothing and returns false.
    mutating func resume(_ reason: LegPauseReason) -> Bool {
        guard reasons.contains(reason) else { return false }
        reasons.remove(reason)
        return !isPaused
    }
}
