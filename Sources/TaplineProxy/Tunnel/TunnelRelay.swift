import TaplineFlow
import TaplineNet

/// Relays bytes both ways between a client and an upstream, untouched: raw
/// CONNECT tunnels, `--passthrough` hosts, and connections after 101 Switching
/// Protocols. Half-closes are passed on; a socket that cannot keep up stops
/// the other side being read. The flow ends, with byte counts, when both
/// directions are done or either side fails.
///
/// Thread ownership: confined to `context.loop`. Retained by the context's
/// registry (under the client connection) until the client connection closes.
final class TunnelRelay: ClientHandler, ByteStreamDelegate {
    private let context: ProxyContext
    private let info: ClientConnectionInfo
    private let flow: FlowID
    private let timings: FlowTimingsBox
    private let client: any ByteStream
    private let upstream: any ByteStream
    private var bytesFromClient: UInt64 = 0
    private var bytesFromUpstream: UInt64 = 0
    private var ended = false

    init(context: ProxyContext, info: ClientConnectionInfo, flow: FlowID, timings: FlowTimingsBox,
         client: any ByteStream, upstream: any ByteStream) {
        self.context = context
        self.info = info
        self.flow = flow
        self.timings = timings
        self.client = client
        self.upstream = upstream
    }

    /// Takes over both streams and forwards bytes already read from either side.
    func start(fromClient: [UInt8], fromUpstream: [UInt8]) {
        client.delegate = self
        upstream.delegate = self
        client.resumeReading()
        upstream.resumeReading()
        if !fromClient.isEmpty { relay(fromClient[...], from: client) }
        if !fromUpstream.isEmpty { relay(fromUpstream[...], from: upstream) }
    }

    private func other(_ stream: any ByteStream) -> any ByteStream {
        stream === client ? upstream : client
    }

    private func relay(_ bytes: ArraySlice<UInt8>, from source: any ByteStream) {
        let destination = other(source)
        if source === client {
            bytesFromClient += UInt64(bytes.count)
        } else {
            if bytesFromUpstream == 0, timings.value.firstResponseByte == nil { timings.value.firstResponseByte = .now() }
            bytesFromUpstream += UInt64(bytes.count)
        }
        destination.write(bytes)
        if !destination.isWritable { source.pauseReading() }
    }

    private func end(error: FlowError?) {
        guard !ended else { return }
        ended = true
        let now = Timestamp.now()
        timings.value.done = now
        context.record(.flowEnded(flow: flow, timings: timings.value, bytesFromClient: bytesFromClient,
                                  bytesFromServer: bytesFromUpstream, error: error, time: now))
    }

    // MARK: ByteStreamDelegate

    func stream(_ stream: any ByteStream, didRead bytes: ArraySlice<UInt8>) {
        relay(bytes, from: stream)
    }

    func streamDidReadEOF(_ stream: any ByteStream) {
        other(stream).shutdownWrite()
    }

    func stream(_ stream: any ByteStream, writabilityChanged isWritable: Bool) {
        if isWritable { other(stream).resumeReading() }
    }

    func stream(_ stream: any ByteStream, didCloseWith error: (any Error)?) {
        if stream === client {
            upstream.close()
            end(error: error.map { FlowError(.clientAborted, "client: \($0)") })
            context.clientConnectionClosed(info, connection: client.connection, error: error)
        } else {
            client.closeAfterFlush()
            end(error: error.map { FlowError(.upstreamAborted, "upstream: \($0)") })
        }
    }

    // MARK: ClientHandler

    func beginShutdown() {}

    func abort() {
        end(error: FlowError(.shutdown, "Tapline was shut down while the tunnel was open"))
        upstream.close()
        client.close()
    }
}
