/// A leg a `PooledUpstreamLegSource` handed out and has not had back yet: which one
/// (by identity: the source holds no reference to a leg its owner has) and the pool's
/// bucket it goes back to (nil once the pool is closed).
///
/// Immutable; owned by its source.
struct HandedOutLeg {
    let leg: ObjectIdentifier
    let bucket: ParkedLegBucket?
}
