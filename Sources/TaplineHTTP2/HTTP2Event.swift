import TaplineWire

/// Something an `HTTP2Session` learned from the peer, or did on the owner's behalf.
///
/// Events of one stream come in wire order. `dataSent` is produced while
/// output is taken (`writeOutput`), all others while input is fed (`receive`).
public enum HTTP2Event: Sendable, Equatable {
    /// A complete HEADERS (+ CONTINUATION) block. `fields` keep the received
    /// order and case, pseudo-headers first as on the wire.
    case headers(stream: Int32, fields: HTTPHeaders, kind: HTTP2HeadersKind, endStream: Bool)
    /// A HEADERS block over the session's `maxHeaderListSize`, counted as RFC 9113
    /// §6.5.2 counts it (name + value + 32 bytes a field); `size` is the whole block's.
    /// `fields` are the ones that fit, in order: pseudo-headers come first, so a request
    /// keeps its `:method` and `:path`. The stream stays open: the owner answers
    /// (431 for a request) or resets it.
    case oversizedHeaders(stream: Int32, fields: HTTPHeaders, kind: HTTP2HeadersKind, endStream: Bool, size: Int)
    /// DATA payload bytes (padding removed). The owner must eventually `consume`
    /// exactly this many bytes for the stream, or credit is never returned.
    case data(stream: Int32, bytes: [UInt8])
    /// The peer ended its side of the stream on a DATA frame (END_STREAM).
    case endStream(stream: Int32)
    /// The peer reset the stream.
    case streamReset(stream: Int32, code: HTTP2ErrorCode)
    /// The stream is closed for good (after both ends, or a reset either way); `code`
    /// is the reset code, `.noError` for a normal close.
    case streamClosed(stream: Int32, code: HTTP2ErrorCode)
    /// A SETTINGS frame (not an ACK) from the peer, parameters in the order sent.
    case settings([HTTP2SettingParameter])
    /// The peer sent GOAWAY: streams above `lastStreamID` were not processed.
    case goAway(lastStreamID: Int32, code: HTTP2ErrorCode, debugData: [UInt8])
    /// `count` bytes queued with `send(data:)` for `stream` were framed into output.
    case dataSent(stream: Int32, count: Int)
}
