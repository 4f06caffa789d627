import CNghttp2
import CTaplineNghttp2Memory
import Glibc
import TaplineWire

/// One HTTP/2 connection endpoint over nghttp2, sans I/O: bytes from the peer go
/// in with `receive`, what happened comes out as `HTTP2Event`s, and the bytes
/// to send are handed out by `writeOutput`. Requests, responses, body bytes and
/// trailers are handed in with `submit…`, `send(data:)` and `finish`.
///
/// nghttp2's callbacks (`HTTP2SessionCallbacks`) only turn frames into events
/// and copy queued body bytes into DATA frames; they never do I/O.
///
/// Flow control: automatic WINDOW_UPDATEs are off. Credit for received DATA is
/// returned only when the owner calls `consume(stream:count:)`, which it does
/// once the bytes were handed to the receiving socket. So at most
/// `settings.streamWindow` bytes per stream and `settings.connectionWindow`
/// per connection are ever received and not yet delivered.
///
/// Outbound bodies stream: `send(data:)` queues bytes for a stream; the data
/// provider defers (NGHTTP2_ERR_DEFERRED) while the queue is empty and is
/// resumed when bytes or the end arrive. `dataSent` events tell the owner how
/// much of a stream's queue went out, so it can return credit upstream.
///
/// Server role: SETTINGS_ENABLE_CONNECT_PROTOCOL is announced (unless turned off in
/// `settings`), so nghttp2's messaging checks accept `:protocol` on CONNECT (RFC 8441).
///
/// nghttp2's protections stay on: HTTP messaging rules (pseudo-headers,
/// connection-specific and uppercase header names reset the stream), max
/// concurrent streams, and its SETTINGS/PING/RST_STREAM flood limits. Ours on top:
/// after `settings.maxOversizedHeaderBlocks` header lists over the limit the peer
/// gets GOAWAY ENHANCE_YOUR_CALM and its later input is not decoded.
///
/// Memory: nghttp2 allocates its streams, frames and HPACK fields from a pool of
/// this session's own (`memoryPool`, free lists without locks, which the
/// confinement below makes safe); the pool outlives the nghttp2 session.
///
/// Thread ownership: loop-confined; every method must be called on the owner's
/// thread. Events are queued while `receive` or `writeOutput` runs, never called
/// back; only `writeOutput`'s sink runs inside a call, between two of nghttp2's.
public final class HTTP2Session {
    public let role: HTTP2SessionRole
    public let settings: HTTP2SessionSettings
    /// Set once the session hit a fatal error; it then only drains queued output (a GOAWAY),
    /// and, when `answersAcceptedStreamsOnly`, answers the streams the peer opened before.
    public private(set) var failure: HTTP2SessionError?
    /// Server role, after GOAWAY ENHANCE_YOUR_CALM (`calmPeerDown`): no more of the
    /// peer's input is decoded, but the streams it opened up to the GOAWAY's last stream
    /// id may still be answered (RFC 9113 §6.8): the session is finished once they are
    /// closed. Those still waiting for peer input (a request body, a tunnel) never will
    /// be: the owner resets them, or bounds the wait.
    public private(set) var answersAcceptedStreamsOnly = false

    private var session: OpaquePointer?
    /// nghttp2's heap for `session` (`nghttp2_mem` callbacks). Created before and
    /// destroyed after the session, in `deinit` once `nghttp2_session_del` (which
    /// frees into it) has returned; used only on the session's thread, like the session.
    private let memoryPool: OpaquePointer
    private var events: [HTTP2Event] = []
    /// Where `writeOutput(gathered: true)` gathers nghttp2's frames (reused; never handed out).
    private var outputScratch: [UInt8] = []
    /// The header block being received (HEADERS + CONTINUATION of one stream are never
    /// interleaved with other frames, RFC 9113 §6.10), its stream and size so far.
    private var incomingHeaders = HTTPHeadersBuilder()
    private var incomingHeaderStream: Int32 = 0
    private var incomingHeaderBytes = 0
    private var incomingHeadersTooLarge = false
    /// Header blocks over `settings.maxHeaderListSize` received so far (see `maxOversizedHeaderBlocks`).
    private var oversizedHeaderBlocks = 0
    /// Client role: streams whose peer sent an interim (1xx) response and owes the final
    /// one. Empty on the hot path: which head a block is comes from nghttp2's category
    /// (`headersComplete`), and only after a 1xx does a HEADERS block that nghttp2 files
    /// as a stream's later HEADERS need this to tell a final response from trailers.
    private var streamsAwaitingFinalResponse = HTTP2StreamMap<Bool>()
    /// Streams with a body still to send (none for a head submitted with `endStream`).
    private var outbound = HTTP2StreamMap<HTTP2OutboundStream>()
    /// Emptied outbound streams of closed streams, reused (with their chunk list's
    /// capacity) by the next heads: at most `spareOutboundLimit`.
    private var spareOutbound: [HTTP2OutboundStream] = []
    /// Streams whose queued bytes were all framed and that end with RST_STREAM
    /// (`resetAfterQueuedData(stream:code:)`): submitted once nghttp2 has nothing
    /// else to send, outside its callbacks.
    private var drainedResets: [(stream: Int32, code: HTTP2ErrorCode)] = []
    /// Streams whose peer is asked to stop sending once our END_STREAM is out
    /// (`stopPeerAfterOurEnd(stream:)`): checked, like `drainedResets`, when nghttp2
    /// has nothing else to send. Empty on the hot path.
    private var peerStops: [Int32] = []
    private static let spareOutboundLimit = 64
    /// nghttp2's last error message (error callback), for connection error reports.
    ///
    /// With `lastLibraryErrorCode`, nghttp2's report of the last `receive` whose input it
    /// reported an error for: a `receive` it reports nothing for keeps the report, so a
    /// server session whose GOAWAY is framed some receives later (the client socket was
    /// not writable) still gets nghttp2's reason. Forgotten once nghttp2 has nothing left
    /// to send (a GOAWAY it queued over the error has been framed by then).
    var lastLibraryMessage: String?
    /// nghttp2's last library error code (error and invalid-frame callbacks, `NGHTTP2_ERR_…`),
    /// kept like `lastLibraryMessage`: the reason of a connection nghttp2 ended itself,
    /// when it gave no message.
    var lastLibraryErrorCode: Int32?
    /// `failure` was set by `receive` when nghttp2 had ended the session itself, before its
    /// GOAWAY went out: the GOAWAY's code and text replace it once it is framed.
    private var failureAwaitsLibraryGoAway = false
    /// The peer sent GOAWAY (so a client session refusing new requests is not a sign
    /// that nghttp2 ended the session itself).
    private var peerSentGoAway = false
    /// We submitted a GOAWAY (`goAway`, `terminate`): ours, not nghttp2's own.
    private var submittedGoAway = false

    /// A session in `role`, with our SETTINGS and connection window update queued.
    public init(role: HTTP2SessionRole, settings: HTTP2SessionSettings = HTTP2SessionSettings()) throws(HTTP2SessionError) {
        self.role = role
        self.settings = settings
        memoryPool = try Self.makeMemoryPool()
        try create()
        try submitInitialSettings()
    }

    /// A server session taking over an HTTP/1.1 connection after `Upgrade: h2c`
    /// (RFC 7540 §3.2): stream 1 is the upgraded request, already half-closed by the client.
    /// - Parameters:
    ///   - http2SettingsHeader: the request's HTTP2-Settings value (base64url SETTINGS payload).
    ///   - isHeadRequest: the upgraded request was HEAD (its response has no body).
    public init(upgradeWithSettingsHeader http2SettingsHeader: String, isHeadRequest: Bool,
                settings: HTTP2SessionSettings = HTTP2SessionSettings()) throws(HTTP2SessionError) {
        self.role = .server
        self.settings = settings
        memoryPool = try Self.makeMemoryPool()
        // A SETTINGS payload is whole 6-byte entries.
        guard let payload = Base64.decodeURL(http2SettingsHeader), payload.count % 6 == 0 else { throw .invalidUpgradeSettings }
        try create()
        let rv = payload.withUnsafeBufferPointer {
            nghttp2_session_upgrade2(session, $0.baseAddress, $0.count, isHeadRequest ? 1 : 0, nil)
        }
        guard rv == 0 else { throw .invalidUpgradeSettings }
        try submitInitialSettings()
    }

    deinit {
        nghttp2_session_del(session)
        tapline_nghttp2_memory_pool_destroy(memoryPool)
    }

    /// What a session's pool may keep on its free lists once nghttp2 freed the blocks:
    /// enough for a busy connection's streams, frames and HPACK fields to be reused
    /// (each stream holds ≈ 1.1 KiB of them: a request costs 9 blocks of 48-512 bytes across
    /// the client and upstream sessions), while a once-busy idle connection keeps no more.
    static let memoryPoolCachedByteLimit = 32 * 1024

    private static func makeMemoryPool() throws(HTTP2SessionError) -> OpaquePointer {
        guard let pool = tapline_nghttp2_memory_pool_create(memoryPoolCachedByteLimit) else {
            throw .cannotCreate("out of memory for the session's memory pool")
        }
        return pool
    }

    private func create() throws(HTTP2SessionError) {
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { throw .cannotCreate("nghttp2_option_new failed") }
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_auto_window_update(option, 1)
        guard let callbacks = HTTP2SessionCallbacks.make() else { throw .cannotCreate("nghttp2_session_callbacks_new failed") }
        defer { nghttp2_session_callbacks_del(callbacks) }
        // nghttp2 copies `memory` into the session; the pool it points to lives on.
        var memory = nghttp2_mem(mem_user_data: UnsafeMutableRawPointer(memoryPool),
                                 malloc: tapline_nghttp2_memory_pool_malloc,
                                 free: tapline_nghttp2_memory_pool_free,
                                 calloc: tapline_nghttp2_memory_pool_calloc,
                                 realloc: tapline_nghttp2_memory_pool_realloc)
        var created: OpaquePointer?
        let rv = role == .server
            ? nghttp2_session_server_new3(&created, callbacks, nil, option, &memory)
            : nghttp2_session_client_new3(&created, callbacks, nil, option, &memory)
        guard rv == 0, let created else { throw .cannotCreate(Self.message(rv)) }
        session = created
        nghttp2_session_set_user_data(created, Unmanaged.passUnretained(self).toOpaque())
    }

    private func submitInitialSettings() throws(HTTP2SessionError) {
        var entries = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: UInt32(settings.streamWindow)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: settings.maxHeaderListSize),
        ]
        if role == .server {
            entries.insert(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                                  value: settings.maxConcurrentStreams), at: 0)
            if settings.enableConnectProtocol {
                entries.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL.rawValue),
                                                      value: 1))
            }
        } else {
            entries.insert(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue),
                                                  value: settings.enablePush ? 1 : 0), at: 0)
        }
        var rv = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), entries, entries.count)
        guard rv == 0 else { throw .cannotSubmit(Self.message(rv)) }
        rv = nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, settings.connectionWindow)
        guard rv == 0 else { throw .cannotSubmit(Self.message(rv)) }
    }

    // MARK: Input

    /// Feeds bytes from the peer. Events are queued for `takeEvents`. On a
    /// protocol violation the session queues a GOAWAY with the right code
    /// (take it with `writeOutput`), stops reading, and returns the error. So it
    /// does for a peer that sent too many oversized header lists
    /// (`settings.maxOversizedHeaderBlocks`), except that its GOAWAY lets the streams
    /// already received finish: their events are still queued and may be answered.
    ///
    /// Most violations (a first frame that is not SETTINGS, a bad SETTINGS value, an
    /// HPACK or flow-control error) nghttp2 handles itself: it queues a GOAWAY and
    /// consumes the input without failing the call. A client session sees that at once
    /// (nghttp2 refuses new requests though the peer sent no GOAWAY) and returns the
    /// error here; a server session has no such signal, so its `failure` is set when
    /// that GOAWAY is framed (`writeOutput`). Either way `failure` then carries the
    /// GOAWAY's code and nghttp2's reason (its error message, else the GOAWAY's text).
    @discardableResult
    public func receive(_ bytes: some Collection<UInt8>) -> HTTP2SessionError? {
        if let failure { return failure }
        // nghttp2 reports an error through the callbacks of the input it is in; once it
        // ended the session it ignores all input, so the report stays that error's.
        let earlierReport = (message: lastLibraryMessage, code: lastLibraryErrorCode)
        lastLibraryMessage = nil
        lastLibraryErrorCode = nil
        let rv = bytes.withContiguousStorageIfAvailable { buffer in
            nghttp2_session_mem_recv(session, buffer.baseAddress, buffer.count)
        } ?? Array(bytes).withUnsafeBufferPointer { nghttp2_session_mem_recv(session, $0.baseAddress, $0.count) }
        if lastLibraryMessage == nil, lastLibraryErrorCode == nil {
            (lastLibraryMessage, lastLibraryErrorCode) = earlierReport
        }
        if rv >= 0 {
            guard libraryEndedClientSession else { return nil }
            let error = HTTP2SessionError.connectionError(code: libraryErrorCode, reason: libraryReason(goAwayText: ""))
            failure = error
            failureAwaitsLibraryGoAway = true
            return error
        }
        if let failure { return failure }  // `calmPeerDown` stopped it; its GOAWAY is queued
        let code: HTTP2ErrorCode = rv == Int(NGHTTP2_ERR_FLOODED.rawValue) ? .enhanceYourCalm
            : rv == Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) ? .internalError : .protocolError
        nghttp2_session_terminate_session(session, code.rawValue)
        let error = HTTP2SessionError.connectionError(code: code, reason: lastLibraryMessage ?? Self.message(Int32(clamping: rv)))
        failure = error
        return error
    }

    /// Client role: nghttp2 ended the session itself during the last `mem_recv` (it has
    /// queued its GOAWAY, so it takes no new request) while the peer sent no GOAWAY and
    /// we submitted none. (nghttp2 also refuses requests once our stream ids run out,
    /// after 2^30 requests: that too ends the connection.)
    private var libraryEndedClientSession: Bool {
        role == .client && !peerSentGoAway && !submittedGoAway && nghttp2_session_check_request_allowed(session) == 0
    }

    /// The GOAWAY code nghttp2 sends for its last library error (its own mapping, RFC 9113 §7).
    private var libraryErrorCode: HTTP2ErrorCode {
        switch lastLibraryErrorCode {
        case Int32(NGHTTP2_ERR_HEADER_COMP.rawValue)?: return .compressionError
        case Int32(NGHTTP2_ERR_FLOW_CONTROL.rawValue)?: return .flowControlError
        case Int32(NGHTTP2_ERR_FRAME_SIZE_ERROR.rawValue)?: return .frameSizeError
        case Int32(NGHTTP2_ERR_STREAM_CLOSED.rawValue)?: return .streamClosed
        case Int32(NGHTTP2_ERR_REFUSED_STREAM.rawValue)?: return .refusedStream
        default: return .protocolError
        }
    }

    /// nghttp2's reason for ending the session: its error message, else the text of its
    /// GOAWAY, else what its error code says.
    private func libraryReason(goAwayText: String) -> String {
        if let lastLibraryMessage { return lastLibraryMessage }
        if !goAwayText.isEmpty { return goAwayText }
        if let lastLibraryErrorCode { return Self.message(lastLibraryErrorCode) }
        return "nghttp2 ended the session"
    }

    /// A GOAWAY is being framed (frame-send callback). One we did not submit, with an
    /// error code, is nghttp2 ending the session over the peer's violation: it becomes
    /// `failure` (or replaces the provisional one `receive` set), with its code and text.
    func goAwayFramed(code: HTTP2ErrorCode, debugData: UnsafeBufferPointer<UInt8>) {
        guard !submittedGoAway, code != .noError, failure == nil || failureAwaitsLibraryGoAway else { return }
        failureAwaitsLibraryGoAway = false
        failure = .connectionError(code: code, reason: libraryReason(goAwayText: String(decoding: debugData, as: UTF8.self)))
    }

    /// The events since the last call, in order.
    public func takeEvents() -> [HTTP2Event] {
        guard !events.isEmpty else { return [] }
        let taken = events
        events = []
        events.reserveCapacity(max(16, taken.count))  // one allocation per burst, not a regrowth chain
        return taken
    }

    /// Moves the events since the last call into `batch`, in order. `batch` is emptied
    /// first and its storage becomes the session's queue: an owner that hands the same
    /// (emptied) array back each round allocates no event array per burst, where
    /// `takeEvents()` allocates one.
    public func takeEvents(into batch: inout [HTTP2Event]) {
        if !batch.isEmpty { batch.removeAll(keepingCapacity: true) }  // the pumps hand it back emptied
        swap(&batch, &events)
        if events.capacity < 16 { events.reserveCapacity(16) }  // a first batch: no regrowth chain
    }

    public var hasEvents: Bool { !events.isEmpty }

    // MARK: Output

    /// Hands queued frames to `sink`, up to about `limit` bytes (whole frames);
    /// false when there was nothing to send. Call until false while the socket takes more.
    ///
    /// nghttp2 hands out a frame or so per call, valid only until its next call, so
    /// every buffer `sink` gets is valid only during that call: it must copy what it keeps.
    /// - `gathered: false`: each of nghttp2's buffers goes to `sink` as it is, for a
    ///   sink that coalesces small writes itself (a socket's write queue): one copy.
    /// - `gathered: true`: they are first gathered into the session's scratch buffer
    ///   (room for `limit` plus a frame, kept between calls) and handed on as one,
    ///   for a sink that pays per call (TLS writes a record per call).
    ///
    /// `sink` may call back into the session (nghttp2 is not running while it runs).
    @discardableResult
    public func writeOutput(limit: Int = 64 * 1024, gathered: Bool,
                            to sink: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        guard let first = nextOutputChunk() else { return false }
        guard gathered else {
            var written = first.count
            sink(first)
            while written < limit, let chunk = nextOutputChunk() {
                written += chunk.count
                sink(chunk)
            }
            return true
        }
        var buffer = outputScratch  // moved out while `sink` runs: a reentrant call gets its own
        outputScratch = []
        buffer.removeAll(keepingCapacity: true)
        buffer.reserveCapacity(max(limit, first.count) + Self.largestFrame)
        buffer.append(contentsOf: first)
        while buffer.count < limit, let chunk = nextOutputChunk() {
            buffer.append(contentsOf: chunk)
        }
        buffer.withUnsafeBufferPointer(sink)
        outputScratch = buffer
        return true
    }

    /// Serializes queued frames into an array: up to about `limit` bytes (whole
    /// frames), or empty when there is nothing to send (`writeOutput` without the array).
    public func takeOutput(limit: Int = 64 * 1024) -> [UInt8] {
        var output: [UInt8] = []
        writeOutput(limit: limit, gathered: false) { output.append(contentsOf: $0) }
        return output
    }

    /// A frame header plus the largest payload nghttp2 frames by default (16 KiB).
    private static let largestFrame = 9 + 16_384

    /// The next serialized bytes from nghttp2 (valid until its next call), nil when
    /// there is nothing to send or the session failed (recorded in `failure`).
    private func nextOutputChunk() -> UnsafeBufferPointer<UInt8>? {
        var pointer: UnsafePointer<UInt8>?
        var count = nghttp2_session_mem_send(session, &pointer)
        if count == 0 {
            let drained = submitDrainedResets()
            if submitPeerStops() || drained { count = nghttp2_session_mem_send(session, &pointer) }
        }
        if count == 0 {
            // Everything nghttp2 queued over its last report is out: the report is stale.
            lastLibraryMessage = nil
            lastLibraryErrorCode = nil
        }
        if count < 0 {
            failure = failure ?? .connectionError(code: .internalError, reason: Self.message(Int32(clamping: count)))
            return nil
        }
        guard count > 0, let pointer else { return nil }
        return UnsafeBufferPointer(start: pointer, count: count)
    }

    /// True while the session expects more input (no GOAWAY exchanged both ways yet).
    public var wantsRead: Bool { failure == nil && nghttp2_session_want_read(session) != 0 }
    /// True while frames are queued (including DATA that is not deferred).
    public var wantsWrite: Bool {
        !drainedResets.isEmpty || nghttp2_session_want_write(session) != 0 || peerStopIsDue
    }
    /// Nothing more will be read or written: the connection can be closed. With
    /// `answersAcceptedStreamsOnly`, not before the peer's streams are closed too (once
    /// our GOAWAY is out, nghttp2 wants to read exactly while streams are open).
    public var isFinished: Bool {
        guard !wantsWrite else { return false }
        return answersAcceptedStreamsOnly ? nghttp2_session_want_read(session) == 0 : !wantsRead
    }

    /// The peer announced SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441): it takes
    /// extended CONNECT (`:protocol`). False until its SETTINGS arrived.
    public var peerEnablesConnectProtocol: Bool {
        nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) == 1
    }

    /// The highest peer-initiated stream id processed (for our GOAWAY).
    public var lastProcessedStreamID: Int32 { nghttp2_session_get_last_proc_stream_id(session) }

    // MARK: Submitting

    /// Client role: opens a stream with `headers` (pseudo-headers first).
    /// Unless `endStream`, the body follows with `send(data:)` and `finish`.
    /// Returns the new stream id.
    public func submitRequest(_ headers: HTTPHeaders, endStream: Bool) throws(HTTP2SessionError) -> Int32 {
        var provider = Self.dataProvider
        let id = Self.withNameValues(headers) { nva, count in
            endStream ? nghttp2_submit_request(session, nil, nva, count, nil, nil)
                : nghttp2_submit_request(session, nil, nva, count, &provider, nil)
        }
        guard id > 0 else { throw .cannotSubmit(Self.message(id)) }
        if !endStream { outbound[id] = makeOutboundStream() }
        return id
    }

    /// Server role: the final response head for `stream`; unless `endStream` the body follows.
    public func submitResponse(stream id: Int32, headers: HTTPHeaders, endStream: Bool) throws(HTTP2SessionError) {
        var provider = Self.dataProvider
        let rv = Self.withNameValues(headers) { nva, count in
            endStream ? nghttp2_submit_response(session, id, nva, count, nil)
                : nghttp2_submit_response(session, id, nva, count, &provider)
        }
        guard rv == 0 else { throw .cannotSubmit(Self.message(rv)) }
        if !endStream { outbound[id] = makeOutboundStream() }
    }

    /// An empty outbound stream: a spare one when there is one.
    private func makeOutboundStream() -> HTTP2OutboundStream {
        spareOutbound.popLast() ?? HTTP2OutboundStream()
    }

    /// Forgets `id`'s outbound stream (its queued bytes are dropped) and keeps the
    /// emptied object for a later stream.
    private func removeOutboundStream(_ id: Int32) {
        guard let stream = outbound.removeValue(forKey: id) else { return }
        guard spareOutbound.count < Self.spareOutboundLimit else { return }
        stream.reset()
        spareOutbound.append(stream)
    }

    /// Server role: an interim 1xx head (the final response comes later).
    public func submitInformational(stream id: Int32, headers: HTTPHeaders) throws(HTTP2SessionError) {
        let rv = Self.withNameValues(headers) { nva, count in
            nghttp2_submit_headers(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, nil, nva, count, nil)
        }
        guard rv >= 0 else { throw .cannotSubmit(Self.message(rv)) }
    }

    /// Queues body bytes for a stream opened by `submitRequest`/`submitResponse`.
    /// Ignored when the stream is gone (reset or closed).
    public func send(data bytes: [UInt8], stream id: Int32) {
        guard let stream = outbound[id], !stream.ended else { return }
        stream.append(bytes)
        resumeIfDeferred(id, stream)
    }

    /// Ends the body of a stream, with trailers when given (non-empty).
    public func finish(stream id: Int32, trailers: HTTPHeaders? = nil) {
        guard let stream = outbound[id], !stream.ended else { return }
        stream.ended = true
        if let trailers, !trailers.isEmpty { stream.trailers = trailers }
        resumeIfDeferred(id, stream)
    }

    private func resumeIfDeferred(_ id: Int32, _ stream: HTTP2OutboundStream) {
        guard stream.deferred else { return }
        stream.deferred = false
        nghttp2_session_resume_data(session, id)
    }

    /// Bytes queued with `send(data:)` for `stream` and not yet framed.
    public func bufferedBytes(stream id: Int32) -> Int { outbound[id]?.bufferedBytes ?? 0 }

    /// Sends RST_STREAM; queued body bytes of the stream are dropped.
    public func reset(stream id: Int32, code: HTTP2ErrorCode) {
        removeOutboundStream(id)
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, code.rawValue)
    }

    /// Sends RST_STREAM after what is already queued for the stream: its head and body
    /// bytes go out first, so the peer sees everything relayed before the reset (a proxy
    /// passing on an upstream's reset). At once when nothing is left to frame.
    public func resetAfterQueuedData(stream id: Int32, code: HTTP2ErrorCode) {
        // Deferred with nothing buffered: nghttp2 already asked for data, so the head is out.
        guard let stream = outbound[id], stream.resetCode == nil,
              !(stream.deferred && stream.bufferedBytes == 0) else {
            reset(stream: id, code: code)
            return
        }
        stream.resetCode = code
        stream.ended = true
        stream.trailers = nil
        resumeIfDeferred(id, stream)
    }

    /// Asks the peer to stop sending on `stream` once our side of it is complete:
    /// RST_STREAM NO_ERROR right after our END_STREAM (queued by `finish`, or a head
    /// submitted with `endStream`), as RFC 9113 §8.1 allows a server whose response
    /// is complete before the request. Nothing is sent when the peer ends its side
    /// first or the stream is gone: the reset only ever stops a body still coming.
    public func stopPeerAfterOurEnd(stream id: Int32) {
        guard nghttp2_session_get_stream_remote_close(session, id) == 0, !peerStops.contains(id) else { return }
        peerStops.append(id)
    }

    /// A stream in `peerStops` has sent our END_STREAM or is gone (so the next
    /// `submitPeerStops` has something to do).
    private var peerStopIsDue: Bool {
        !peerStops.isEmpty && peerStops.contains { nghttp2_session_get_stream_local_close(session, $0) != 0 }
    }

    /// Resets, with NO_ERROR, every stream in `peerStops` whose END_STREAM is out while
    /// the peer's side is open; forgets those that closed. True when one was reset.
    private func submitPeerStops() -> Bool {
        guard !peerStops.isEmpty else { return false }
        var submitted = false
        peerStops.removeAll { id in
            let localClosed = nghttp2_session_get_stream_local_close(session, id)
            guard localClosed == 1 else { return localClosed < 0 }  // still sending: keep; gone: forget
            if nghttp2_session_get_stream_remote_close(session, id) == 0 {
                reset(stream: id, code: .noError)
                submitted = true
            }
            return true
        }
        return submitted
    }

    /// Queues the resets of drained streams (see `drainedResets`); true when there were any.
    private func submitDrainedResets() -> Bool {
        guard !drainedResets.isEmpty else { return false }
        let resets = drainedResets
        drainedResets.removeAll()
        for (id, code) in resets where outbound[id]?.resetScheduled == true {
            reset(stream: id, code: code)
        }
        return true
    }

    /// Sends GOAWAY with the last peer stream we processed: no new streams are
    /// accepted; streams in flight may finish.
    public func goAway(code: HTTP2ErrorCode, debugData: String = "") {
        let debug = Array(debugData.utf8)
        submittedGoAway = true
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), lastProcessedStreamID, code.rawValue,
                              debug, debug.count)
    }

    /// Sends GOAWAY with `code` and ends the session once it is written (streams in flight are dropped).
    public func terminate(code: HTTP2ErrorCode) {
        submittedGoAway = true
        nghttp2_session_terminate_session(session, code.rawValue)
    }

    /// Returns flow-control credit for `count` received DATA bytes of `stream`
    /// (stream and connection windows; only the connection's if the stream is gone).
    public func consume(stream id: Int32, count: Int) {
        guard count > 0 else { return }
        nghttp2_session_consume(session, id, count)
    }

    // MARK: Callback entry points (HTTP2SessionCallbacks)

    /// Runs `body` with the session behind nghttp2's `user_data`, or returns `fallback`
    /// when there is none. The session is borrowed, not retained: nghttp2 calls back
    /// only from inside this session's own `mem_recv`/`mem_send` calls, whose caller
    /// holds it (a retain and release per callback, a dozen a request, cost more than
    /// the callbacks' work on these machines).
    @inline(__always)
    static func with<Result>(_ userData: UnsafeMutableRawPointer?, else fallback: Result,
                             _ body: (HTTP2Session) -> Result) -> Result {
        guard let userData else { return fallback }
        return Unmanaged<HTTP2Session>.fromOpaque(userData)._withUnsafeGuaranteedRef(body)
    }

    func beginHeaders(stream: Int32) {
        incomingHeaders.removeAll()
        incomingHeaderStream = stream
        incomingHeaderBytes = 0
        incomingHeadersTooLarge = false
    }

    /// Collects one field of the block being received; false (the stream is then reset)
    /// only for a field of a stream whose block did not begin. Past `maxHeaderListSize`
    /// fields are counted but no longer kept: the block ends as `oversizedHeaders`.
    func header(stream: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard stream == incomingHeaderStream else { return false }
        incomingHeaderBytes += name.count + value.count + 32
        guard !incomingHeadersTooLarge, incomingHeaderBytes <= Int(settings.maxHeaderListSize) else {
            incomingHeadersTooLarge = true
            return true
        }
        incomingHeaders.add(name: name, value: value)
        return true
    }

    /// A header block is complete. `category` is nghttp2's filing of the HEADERS frame
    /// (`nghttp2_headers_category`), decided by the stream's state before the block:
    /// a server's `REQUEST` opens a stream (anything later on it is trailers); a client's
    /// `RESPONSE` (or `PUSH_RESPONSE`) is a stream's first block from the peer, and a
    /// later one (`HEADERS`) is the final response after a 1xx, else trailers.
    func headersComplete(stream: Int32, category: nghttp2_headers_category, endStream: Bool) {
        guard stream == incomingHeaderStream else { return }
        let fields = incomingHeaders.build()
        incomingHeaders.removeAll()
        let kind: HTTP2HeadersKind
        if role == .server {
            kind = category == NGHTTP2_HCAT_REQUEST ? .request : .trailers
        } else if category != NGHTTP2_HCAT_HEADERS
                    || (!streamsAwaitingFinalResponse.isEmpty && streamsAwaitingFinalResponse[stream] != nil) {
            if let status = fields.http2Status, (100..<200).contains(status) {
                kind = .informational
                streamsAwaitingFinalResponse[stream] = true
            } else {
                kind = .response
                if !streamsAwaitingFinalResponse.isEmpty { streamsAwaitingFinalResponse[stream] = nil }
            }
        } else {
            kind = .trailers
        }
        if incomingHeadersTooLarge {
            events.append(.oversizedHeaders(stream: stream, fields: fields, kind: kind, endStream: endStream,
                                            size: incomingHeaderBytes))
            oversizedHeaderBlocks += 1
            if oversizedHeaderBlocks == settings.maxOversizedHeaderBlocks {
                calmPeerDown()
                // The frame callback stops nghttp2 before it applies this block's END_STREAM:
                // to nghttp2 the stream stays open on the peer's side, so once our answer is
                // out it is reset (NO_ERROR) to close it, as the finished session needs.
                if endStream, answersAcceptedStreamsOnly { stopPeerAfterOurEnd(stream: stream) }
            }
            return
        }
        events.append(.headers(stream: stream, fields: fields, kind: kind, endStream: endStream))
    }

    /// The peer sent `maxOversizedHeaderBlocks` header lists over our limit: GOAWAY
    /// ENHANCE_YOUR_CALM and no more input is decoded: the frame callback stops nghttp2
    /// right after this block, and `failure` makes `receive` drop later input. A server
    /// session still answers the streams received so far (`answersAcceptedStreamsOnly`);
    /// a client session's streams all wait for the peer, so it ends once its output is out.
    private func calmPeerDown() {
        let reason = "the peer sent \(oversizedHeaderBlocks) header lists over the \(settings.maxHeaderListSize) bytes "
            + "of SETTINGS_MAX_HEADER_LIST_SIZE"
        failure = .connectionError(code: .enhanceYourCalm, reason: reason)
        answersAcceptedStreamsOnly = role == .server
        goAway(code: .enhanceYourCalm, debugData: "too many header lists over SETTINGS_MAX_HEADER_LIST_SIZE")
    }

    func dataChunk(stream: Int32, bytes: UnsafeBufferPointer<UInt8>) {
        events.append(.data(stream: stream, bytes: Array(bytes)))
    }

    func emit(_ event: HTTP2Event) {
        if case .goAway = event { peerSentGoAway = true }
        events.append(event)
    }

    func streamClosed(_ stream: Int32, code: UInt32) {
        removeOutboundStream(stream)
        if !streamsAwaitingFinalResponse.isEmpty { streamsAwaitingFinalResponse[stream] = nil }
        events.append(.streamClosed(stream: stream, code: HTTP2ErrorCode(rawValue: code)))
    }

    /// The data provider: copies queued bytes of `stream` into a DATA frame.
    func readData(stream id: Int32, into buffer: UnsafeMutablePointer<UInt8>, length: Int,
                  flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let stream = outbound[id] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        let copied = stream.take(into: buffer, count: length)
        if copied > 0 { events.append(.dataSent(stream: id, count: copied)) }
        if stream.bufferedBytes == 0, let code = stream.resetCode {
            // Everything queued is framed: the reset follows, submitted outside this callback.
            if !stream.resetScheduled {
                stream.resetScheduled = true
                drainedResets.append((id, code))
            }
            guard copied == 0 else { return copied }
            stream.deferred = true
            return Int(NGHTTP2_ERR_DEFERRED.rawValue)
        }
        if stream.bufferedBytes == 0 {
            if stream.ended {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if let trailers = stream.trailers {
                    stream.trailers = nil
                    let rv = Self.withNameValues(trailers) { nva, count in nghttp2_submit_trailer(session, id, nva, count) }
                    if rv == 0 { flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue }
                }
            } else if copied == 0 {
                stream.deferred = true
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        }
        return copied
    }

    // MARK: Helpers

    static let dataProvider = nghttp2_data_provider(
        source: nghttp2_data_source(ptr: nil), read_callback: HTTP2SessionCallbacks.readData)

    /// Calls `body` with an nghttp2_nv array for `headers` (valid only during the call).
    ///
    /// The entries point straight into the header list's bytes; nghttp2 copies them
    /// when the frame is submitted, so nothing outlives the call.
    static func withNameValues<R>(_ headers: HTTPHeaders,
                                  _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        headers.withUnsafeFieldBytes { fields in
            withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: max(1, fields.count)) { entries in
                let first = entries.baseAddress.unsafelyUnwrapped  // capacity >= 1: the address exists
                for index in 0..<fields.count {
                    let name = fields.name(index), value = fields.value(index)
                    (first + index).initialize(to: nghttp2_nv(
                        name: address(name), value: address(value), namelen: name.count, valuelen: value.count,
                        flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
                }
                return body(UnsafePointer(first), fields.count)
            }
        }
    }

    /// Where `bytes` start, as nghttp2 wants it: never null (an empty list has no
    /// storage, and nghttp2 may copy zero bytes from the pointer).
    @inline(__always)
    private static func address(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        UnsafeMutablePointer(mutating: bytes.baseAddress ?? emptyBytes.utf8Start)
    }

    /// Constant memory with a valid address, for empty names and values.
    private static let emptyBytes: StaticString = " "

    static func message(_ code: Int32) -> String {
        String(cString: nghttp2_strerror(code))
    }
}
