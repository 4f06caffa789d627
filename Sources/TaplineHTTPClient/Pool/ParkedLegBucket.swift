/// The legs an `UpstreamLegPool` keeps under one key, oldest first. A class, so that
/// the pool changes a bucket it found (or remembered: its last one, the one a leg
/// handed out came from) in place, without looking its key up again.
///
/// Thread ownership: confined to its pool's loop; owned by its pool, and referred to
/// by a `PooledUpstreamLegSource` for the legs it handed out.
final class ParkedLegBucket {
    let key: UpstreamPoolKey
    var legs: [ParkedLeg] = []
    /// False once the pool let go of the bucket (emptied by the idle sweep, or `closeAll`):
    /// a leg going back to it goes under its key instead.
    var isInPool = true

    init(key: UpstreamPoolKey) {
        self.key = key
    }
}
