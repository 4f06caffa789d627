import TaplineHTTPClient
/// Where an `HTTP1ProxyHandler` sends the requests it reads.
enum HTTP1Route {
    /// Forward proxy: absolute-form requests name their upstream; CONNECT opens a tunnel.
    case forward
    /// Reverse proxy / gateway: every request goes to this upstream, Host rewritten.
    case reverse(UpstreamTarget)
    /// Inside an intercepted CONNECT tunnel: origin-form requests to the tunnel's target.
    case intercepted(UpstreamTarget)
    /// A connection redirected to the `--transparent` listener: requests go to its
    /// original destination, Host kept as the client sent it.
    case transparent(UpstreamTarget)
}
