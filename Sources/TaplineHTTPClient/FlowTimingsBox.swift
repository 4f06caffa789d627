import TaplineFlow

/// A flow's timings shared by reference between the flow and the asynchronous
/// steps (resolve, connect, TLS) that fill them in.
///
/// Thread ownership: confined to the flow's event loop.
public final class FlowTimingsBox {
    public var value = FlowTimings()

    public init() {}
}
