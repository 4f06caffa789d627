/// The local settings and limits an `HTTP2Session` announces and enforces.
///
/// Memory bound: a peer can have at most `connectionWindow` bytes of DATA
/// received and not yet consumed on one connection, and `streamWindow` per
/// stream; credit comes back only when the owner calls `consume`. A value type.
public struct HTTP2SessionSettings: Sendable, Equatable {
    /// SETTINGS_INITIAL_WINDOW_SIZE we announce: how much one stream may send before credit returns.
    public var streamWindow: Int32 = 1 << 20
    /// Our connection-level receive window (raised from 65535 with a WINDOW_UPDATE at start).
    public var connectionWindow: Int32 = 16 << 20
    /// SETTINGS_MAX_CONCURRENT_STREAMS we announce (server role; nghttp2 refuses streams above it).
    public var maxConcurrentStreams: UInt32 = 100
    /// SETTINGS_MAX_HEADER_LIST_SIZE we announce; a received header block larger than this
    /// arrives as `HTTP2Event.oversizedHeaders` (the fields that fit), its stream still open.
    public var maxHeaderListSize: UInt32 = 64 * 1024
    /// How many header blocks over `maxHeaderListSize` one peer may send on a connection.
    /// Each costs the full HPACK decoding of the block (an indexed-field bomb: ~21 ms of CPU
    /// for a 16 KB HEADERS frame) although the owner only refuses it; at this count the
    /// session sends GOAWAY ENHANCE_YOUR_CALM and decodes nothing more from that peer,
    /// as nghttpx and Envoy do with abusive peers. The blocks refused before, this one
    /// included, still arrive as `HTTP2Event.oversizedHeaders` and can be answered.
    public var maxOversizedHeaderBlocks = 3
    /// SETTINGS_ENABLE_PUSH: always 0 in the client role (no server push toward us).
    public var enablePush = false
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441), server role only: announced as 1, so
    /// clients may open extended CONNECT streams (`:protocol`) and nghttp2 accepts them.
    public var enableConnectProtocol = true

    public init() {}
}
