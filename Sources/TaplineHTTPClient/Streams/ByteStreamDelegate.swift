/// Receives a `ByteStream`'s events on its loop thread.
public protocol ByteStreamDelegate: AnyObject {
    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>)
    func streamDidReadEOF(_ stream: any ByteStream)
    /// The peer's FIN arrived while reading was paused (`TCPConnection`'s
    /// `connectionPeerHungUpWhilePaused`): what it sent before may not have been
    /// delivered yet; it, then `streamDidReadEOF`, follows once reading resumes.
    /// At most once; only streams over a socket (and test doubles playing one) say it.
    func streamPeerHungUpWhilePaused(_ stream: any ByteStream)
    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool)
    /// Called exactly once; `error` is nil for an orderly close.
    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?)
}

extension ByteStreamDelegate {
    /// By default the hang-up waits to be read as `streamDidReadEOF` after `resumeReading()`.
    public func streamPeerHungUpWhilePaused(_ stream: any ByteStream) {}
}
