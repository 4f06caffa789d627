import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineTLS

/// Everything a connection handler on one event loop needs: the configuration,
/// the recorder, the CA, id sources, the upstream connector, and the registry
/// of live client handlers (for shutdown).
///
/// Thread ownership: one context per event loop, confined to that loop's thread.
final class ProxyContext {
    let loop: EventLoop
    let configuration: ProxyConfiguration
    let recorder: (any FlowRecorder)?
    let certificateAuthority: CertificateAuthority
    let flowIDs: IdentifierSource
    let connectionIDs: IdentifierSource
    let connector: UpstreamConnector
    /// Hosts switched to pass-through because their clients pin (shared by every loop); nil with `--no-auto-passthrough`.
    let autoPassthrough: AutoPassthroughTable?
    /// Tells the user something once on stderr (never blocks the loop: it hands the line on).
    let warn: @Sendable (String) -> Void
    private(set) var isShuttingDown = false
    private var handlers: [ObjectIdentifier: any ClientHandler] = [:]
    private var recorderWaiters: [() -> Void] = []
    /// This loop's front of `recorder` (the capture writer encodes here, on this loop).
    private let sink: (any FlowEventSink)?
    /// Above this many bytes held in `sink`, it is flushed at once.
    private static let maxBufferedBytes = BufferLimits.captureStagingPerLoop
    private var flushScheduled = false
    private var batchEvents = true

    init(loop: EventLoop, configuration: ProxyConfiguration, recorder: (any FlowRecorder)?,
         certificateAuthority: CertificateAuthority, flowIDs: IdentifierSource, connectionIDs: IdentifierSource,
         autoPassthrough: AutoPassthroughTable? = nil, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.loop = loop
        self.configuration = configuration
        self.recorder = recorder
        self.sink = recorder?.makeSink()
        self.certificateAuthority = certificateAuthority
        self.flowIDs = flowIDs
        self.connectionIDs = connectionIDs
        self.autoPassthrough = autoPassthrough
        self.warn = warn
        self.connector = UpstreamConnector(loop: loop, configuration: configuration.httpClient)
    }

    var liveHandlerCount: Int { handlers.count }

    /// In `.served` mode, a new leg source for one client connection's handler (which
    /// closes it when done); nil otherwise: handlers use their own `PooledUpstreamLegSource`.
    func makeServedLegSource() -> (any UpstreamLegSource)? {
        guard case .served(_, let factory) = configuration.mode else { return nil }
        return factory.makeLegSource(loop: loop, connector: connector, limits: configuration.limits,
                                     idleMilliseconds: configuration.timeouts.idle)
    }

    /// Makes `handler` the owner of client connection `connection` (replacing any previous one).
    /// Keyed by the transport's identity, which stays the same as the connection changes
    /// protocol (a `PlainStream`, then the `TLSStream` that took its socket over).
    func register(_ handler: any ClientHandler, for connection: any ByteStreamTransport) {
        handlers[ObjectIdentifier(connection)] = handler
    }

    /// A client connection closed: record it and forget its handler. Called
    /// once per connection by whichever handler owns it at the time.
    func clientConnectionClosed(_ client: ClientConnectionInfo, connection: any ByteStreamTransport,
                                error: (any Error)?) {
        handlers[ObjectIdentifier(connection)] = nil
        let flowError = error.map { FlowError(.clientAborted, "\($0)") }
        record(.connectionClosed(connection: client.id, time: .now(), bytesReceived: connection.bytesRead,
                                 bytesSent: connection.bytesWritten, error: flowError))
    }

    /// Records an event into this loop's sink, which passes the iteration's
    /// events on together at the end of the iteration (one lock, not one per
    /// event); order is kept. After shutdown has begun each event is passed on at once.
    @inline(__always)
    func record(_ event: @autoclosure () -> FlowEvent) {
        guard let sink else { return }
        sink.record(event())
        afterRecording(sink)
    }

    /// Flushes at once after shutdown or when much is buffered; otherwise once at
    /// the end of this loop iteration.
    @inline(__always)
    private func afterRecording(_ sink: any FlowEventSink) {
        guard batchEvents else {
            sink.flush()
            return
        }
        if sink.bufferedBytes >= Self.maxBufferedBytes {
            // Hand over now: many sockets ready in one iteration must not stage
            // megabytes here, out of sight of the recorder's watermarks.
            flushEvents()
            return
        }
        if !flushScheduled {
            flushScheduled = true
            let me = LoopBound(self, loop: loop)
            loop.execute { me.value.flushEvents() }
        }
    }

    /// Records a chunk of a flow's request or response body (as `.requestBody` /
    /// `.responseBody`, without making an array for it when the sink copies the bytes).
    func recordBody(flow: FlowID, isRequest: Bool, bytes: ArraySlice<UInt8>, time: @autoclosure () -> Timestamp = .now()) {
        guard let sink else { return }
        sink.recordBody(flow: flow, isRequest: isRequest, bytes: bytes, time: time())
        afterRecording(sink)
    }

    /// Passes the collected events on to the recorder.
    func flushEvents() {
        flushScheduled = false
        sink?.flush()
    }

    func nextFlowID() -> FlowID { FlowID(flowIDs.next()) }

    /// True while the recorder cannot take more: stop reading sockets.
    var recorderIsBackedUp: Bool { recorder?.isBackedUp ?? false }

    /// Runs `resume` on this loop once the recorder has drained.
    func whenRecorderDrained(_ resume: @escaping () -> Void) {
        recorderWaiters.append(resume)
        guard recorderWaiters.count == 1, let recorder else { return }
        let me = LoopBound(self, loop: loop)
        recorder.whenDrained { [loop] in
            loop.execute { me.value.runRecorderWaiters() }
        }
    }

    private func runRecorderWaiters() {
        let waiters = recorderWaiters
        recorderWaiters = []
        for waiter in waiters { waiter() }
    }

    /// Stops new requests on every connection of this loop.
    func beginShutdown() {
        isShuttingDown = true
        for handler in Array(handlers.values) { handler.beginShutdown() }
    }

    /// Aborts every connection still open.
    func abortAll() {
        for handler in Array(handlers.values) { handler.abort() }
        // From here on the loop may stop before a scheduled flush runs.
        flushEvents()
        batchEvents = false
    }
}
