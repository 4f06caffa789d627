/// Receives a `TCPConnection`'s events, on the connection's loop thread.
public protocol TCPConnectionDelegate: AnyObject {
    /// Bytes arrived. The slice is only valid during the call; copy what you keep.
    func connection(_ connection: TCPConnection, didRead bytes: ArraySlice<UInt8>)
    /// The peer half-closed (read EOF). Writing is still possible.
    func connectionDidReadEOF(_ connection: TCPConnection)
    /// The peer shut down its sending side (its FIN arrived), or reset the connection,
    /// while reading was paused.
    /// Bytes it sent before the FIN may still be unread: they, then `connectionDidReadEOF`,
    /// follow once reading resumes. At most once per connection; writing is still possible.
    /// A peer that only half-closed may still want what is written to it.
    func connectionPeerHungUpWhilePaused(_ connection: TCPConnection)
    /// The write buffer crossed the high watermark (false) or drained below the low one (true).
    func connection(_ connection: TCPConnection, writabilityChanged isWritable: Bool)
    /// The connection is closed for good (after `close()`, an error, or both halves done).
    /// `error` is nil for an orderly close. Called exactly once.
    func connection(_ connection: TCPConnection, didCloseWith error: NetError?)
    /// Another delegate took the connection over (a TLS stream over a socket that a
    /// plain stream served until then): no callback follows, not even `didCloseWith`.
    func connectionWasHandedOver(_ connection: TCPConnection)
}

extension TCPConnectionDelegate {
    public func connectionWasHandedOver(_ connection: TCPConnection) {}
    /// By default the hang-up waits to be read as `connectionDidReadEOF` after `resumeReading()`.
    public func connectionPeerHungUpWhilePaused(_ connection: TCPConnection) {}
}
