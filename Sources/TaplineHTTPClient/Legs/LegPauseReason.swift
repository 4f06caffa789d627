/// Why an owner stopped a leg reading its upstream (nghttpx's `IOCtrlReason`).
///
/// Reasons are independent: a leg reads again only once every reason that paused
/// it was resumed, so ending one cause (the capture drained) never resumes what
/// another still holds (a slow client). See `LegReadPauses`.
public struct LegPauseReason: OptionSet, Sendable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The capture's write queue is backed up: nothing more may be read to be recorded.
    public static let captureBackedUp = LegPauseReason(rawValue: 1 << 0)
    /// The owner's client cannot take more response bytes now (its socket or stream
    /// queue is full): no more response events until it drains.
    public static let clientSlow = LegPauseReason(rawValue: 1 << 1)

    /// Every reason there is, one by one (`resumeReading` takes them singly).
    public static let allReasons: [LegPauseReason] = [.captureBackedUp, .clientSlow]
}
