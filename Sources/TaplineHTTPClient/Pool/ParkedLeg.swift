/// One idle leg in an `UpstreamLegPool`, and when it was parked (monotonic
/// nanoseconds): it is closed once it has been idle for the pool's timeout.
///
/// Immutable; owned by its pool.
struct ParkedLeg {
    let leg: any HTTPClientLeg
    let parkedAt: UInt64
}
