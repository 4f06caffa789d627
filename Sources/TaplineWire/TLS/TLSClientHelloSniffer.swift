/// Looks at the first bytes a client sent inside a tunnel and tells what they are,
/// without consuming them: a TLS ClientHello (with its SNI and ALPN offers),
/// plaintext HTTP/1.x, the HTTP/2 connection preface, or something else.
///
/// Pure function over a prefix of the stream; `.needMoreData` means call again
/// with more bytes. Never traps on malformed input.
public enum TLSClientHelloSniffer {
    public enum Result: Sendable, Equatable {
        case needMoreData
        case tlsClientHello(serverName: String?, alpn: [String])
        case http1
        case http2Preface
        /// Neither TLS nor HTTP: relay as an opaque TCP tunnel.
        case other
    }

    public static func sniff(_ prefix: some Collection<UInt8>) -> Result {
        .other // TODO(wire): implement
    }
}
