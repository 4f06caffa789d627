import TaplineHTTPClient
import TaplineNet
import TaplineWire

/// Makes the `UpstreamLegSource` a client connection's handler takes its upstream legs
/// from when the server answers from something other than the real upstream
/// (`ProxyConfiguration.Mode.served`: `tapline mock`'s recorded responses). Each
/// handler gets a source of its own and closes it when the connection ends.
///
/// Thread ownership: shared by every loop (`Sendable`); `makeLegSource` runs on `loop`
/// and the source it returns is confined to it.
public protocol UpstreamLegSourceFactory: AnyObject, Sendable {
    /// A source for one client connection on `loop`. `connector`, `limits` and
    /// `idleMilliseconds` are what a `PooledUpstreamLegSource` for real servers needs
    /// (a mock's fallback).
    func makeLegSource(loop: EventLoop, connector: UpstreamConnector, limits: HTTP1Limits,
                       idleMilliseconds: Int) -> any UpstreamLegSource
}
