/// Where the capture put the payload of one large WebSocket message that the proxy
/// streamed (`FlowEvent.webSocketPayload` pieces) ahead of its `wsMessage` line: the
/// body-segment extents in order, and how many payload bytes were seen and stored
/// (`--max-body-capture` applies per message, as for an inline payload).
///
/// Invariant: the extents' lengths add up to `stored`; contiguous pieces share one
/// extent. A value type, kept by one `CaptureEventEncoder` per flow and direction
/// until the message's line is written.
struct StreamedWebSocketPayload {
    var extents: [BodyExtent] = []
    var seen: UInt64 = 0
    var stored: UInt64 = 0

    /// Adds `length` stored bytes at `offset` of `segment`, extending the last extent
    /// when they follow it.
    mutating func append(segment: Int, offset: UInt64, length: UInt64) {
        stored += length
        if let last = extents.last, last.segment == segment, last.offset + last.length == offset {
            extents[extents.count - 1].length += length
        } else {
            extents.append(BodyExtent(segment: segment, offset: offset, length: length))
        }
    }
}
