import TaplineFlow
import TaplineHTTPClient
import TaplineNet

/// Relays bytes both ways between a client and an upstream, untouched: raw
/// CONNECT tunnels, `--passthrough` hosts, and connections after 101 Switching
/// Protocols. Half-closes are passed on; a socket that cannot keep up stops
/// the other side being read. The flow ends, with byte counts, when both
/// directions are done or either side fails.
///
/// Thread ownership: confined to `context.loop`. Retained by the context's
/// registry (under the client connection) until the client connection closes.
final class TunnelRelay: ClientHandler, StreamPairRelay {
    private let context: ProxyContext
    private let info: ClientConnectionInfo
    private let flow: FlowID
    private let timings: FlowTimingsBox
    let client: any ByteStream
    let upstream: any ByteStream
    private var counts = RelayByteCounts()
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

    func relay(_ bytes: ArraySlice<UInt8>, from source: any ByteStream) {
        let destination = other(source)
        counts.add(bytes.count, fromClient: source === client, timings: timings)
        destination.write(bytes)
        if !destination.isWritable { source.pauseReading() }
    }

    private func end(error: FlowError?) {
        guard !ended else { return }
        ended = true
        context.record(counts.endEvent(flow: flow, timings: timings, error: error))
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
            context.clientConnectionClosed(info, connection: client.transport, error: error)
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
