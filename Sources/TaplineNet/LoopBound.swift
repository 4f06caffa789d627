/// Carries a loop-confined (non-`Sendable`) value through a `@Sendable` closure,
/// typically one passed to `EventLoop.execute(_:)` or run on a background queue
/// that posts back to the loop.
///
/// Invariant: `value` may only be read on `loop`'s thread (checked with a
/// precondition). Creating a `LoopBound` and moving it between threads is fine;
/// the wrapped value is never touched off the loop, which is what makes the
/// `@unchecked Sendable` sound.
///
///     let bound = LoopBound(connection, loop: connection.loop)
///     DispatchQueue.global().async {
///         let result = expensiveWork()
///         bound.loop.execute { bound.value.write(result) }
///     }
public struct LoopBound<Value>: @unchecked Sendable {
    /// The loop that owns `value`.
    public let loop: EventLoop
    private let wrapped: Value

    /// Wraps `value`, owned by `loop`. Callable from any thread.
    public init(_ value: Value, loop: EventLoop) {
        self.wrapped = value
        self.loop = loop
    }

    /// The wrapped value. Loop thread only (precondition).
    public var value: Value {
        precondition(loop.inEventLoop, "LoopBound.value read off its event loop's thread")
        return wrapped
    }
}
