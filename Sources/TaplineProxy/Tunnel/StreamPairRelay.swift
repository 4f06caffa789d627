import TaplineHTTPClient
/// A handler that relays between a client stream and an upstream stream after it
/// took both over (`TunnelRelay`, `WebSocketRelay`): the shared start and pairing.
///
/// Thread ownership: confined to the streams' event loop.
protocol StreamPairRelay: ByteStreamDelegate {
    var client: any ByteStream { get }
    var upstream: any ByteStream { get }
    /// Handles bytes read from `source` (`client` or `upstream`).
    func relay(_ bytes: ArraySlice<UInt8>, from source: any ByteStream)
}

extension StreamPairRelay {
    /// Takes over both streams and handles bytes already read from either side.
    func start(fromClient: [UInt8], fromUpstream: [UInt8]) {
        client.delegate = self
        upstream.delegate = self
        client.resumeReading()
        upstream.resumeReading()
        if !fromClient.isEmpty { relay(fromClient[...], from: client) }
        if !fromUpstream.isEmpty { relay(fromUpstream[...], from: upstream) }
    }

    /// The stream on the other side of `stream`.
    func other(_ stream: any ByteStream) -> any ByteStream {
        stream === client ? upstream : client
    }
}
