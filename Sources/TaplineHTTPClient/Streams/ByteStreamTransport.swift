import TaplineNet

/// The connection a `ByteStream` runs over, as its owners see it: the loop it lives
/// on, the two addresses, the bytes that crossed it (ciphertext under TLS) and its
/// identity. Every stream
/// over one connection reports the same transport object (a `PlainStream` and the
/// `TLSStream` that takes its socket over; a stream inside an HTTP/2 stream reports
/// the connection carrying the session), so a registry keyed by
/// `ObjectIdentifier(stream.transport)` follows a client connection through its
/// changes of protocol.
///
/// A socket's transport is its `TCPConnection`; a test double can be its own.
///
/// Thread ownership: confined to `loop`, as are the streams over it.
public protocol ByteStreamTransport: AnyObject {
    /// The loop whose thread the transport and its streams are confined to (for their timers).
    var loop: EventLoop { get }
    var localAddress: SocketAddress { get }
    var remoteAddress: SocketAddress { get }
    /// Bytes read from the peer so far.
    var bytesRead: UInt64 { get }
    /// Bytes written toward the peer so far.
    var bytesWritten: UInt64 { get }
}

extension TCPConnection: ByteStreamTransport {}
