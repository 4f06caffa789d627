/// Splits one direction of a gRPC (or gRPC-Web) call into its length-prefixed messages,
/// however the bytes are cut (DATA frames, TCP reads). Sans-I/O: bytes in, events out.
///
/// The framer keeps no message bytes: it reads each 5-byte prefix (buffered when cut),
/// counts payload bytes as they pass and emits `.message` with the payload's extent
/// once its last byte has arrived, so a caller forwards every byte at once and stores
/// the body as it would anyway. Only a gRPC-Web trailer frame (bounded by
/// `maxMessageBytes`) is held until whole, to parse its fields.
///
/// Invariant: the events and the error for a stream do not depend on how its bytes were
/// split across `consume` calls. After an error the framer is failed: `consume` and
/// `finish` throw that error again.
///
/// A value type; one owner at a time (the connection's loop thread in the proxy).
public struct GRPCMessageFramer: Sendable {
    /// The default `maxMessageBytes`: gRPC's default receive limit (4 MiB).
    public static let defaultMaxMessageBytes = 4 << 20

    public let framing: GRPCFraming
    /// The largest payload a frame may declare.
    public let maxMessageBytes: Int
    /// Bytes consumed so far: the offset of the next byte in the direction's stream.
    public private(set) var streamOffset = 0

    /// The bytes of the frame in progress's prefix so far (big-endian, the first in the
    /// highest of the `prefixCount` low bytes), while fewer than 5 have arrived. Kept in an
    /// integer, not an array: a framer allocates nothing until a gRPC-Web trailer frame.
    private var prefixBits: UInt64 = 0
    private var prefixCount = 0
    /// The frame whose payload is arriving, and how many of its bytes are still to come.
    private var current: (frame: GRPCMessageFrame, remaining: Int)?
    /// The payload of a gRPC-Web trailer frame so far.
    private var trailerPayload: [UInt8] = []
    private var sawTrailers = false
    private var failure: GRPCFramingError?

    /// The frame whose prefix has arrived and whose payload has not all arrived yet; nil
    /// between frames (and while a prefix is cut). What `finish()` would report as
    /// truncated, with its flags.
    public var frameInProgress: GRPCMessageFrame? { current?.frame }

    public init(framing: GRPCFraming = .grpc, maxMessageBytes: Int = defaultMaxMessageBytes) {
        self.framing = framing
        self.maxMessageBytes = maxMessageBytes
    }

    /// Consumes the next bytes of the stream, appending an event to `events` for each
    /// frame they complete (events found before an error are appended before it is thrown).
    /// - Throws: `messageTooLarge`, `reservedFlags`, `malformedTrailers`, `dataAfterTrailers`.
    public mutating func consume(_ bytes: ArraySlice<UInt8>,
                                 into events: inout [GRPCFramerEvent]) throws(GRPCFramingError) {
        if let failure { throw failure }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if let (frame, remaining) = current {
                let take = min(remaining, bytes.endIndex - index)
                if frame.flags & GRPCMessageFrame.trailersFlag != 0, framing == .grpcWeb {
                    trailerPayload.append(contentsOf: bytes[index..<(index + take)])
                }
                index += take
                streamOffset += take
                if take == remaining {
                    current = nil
                    try emit(frame, into: &events)
                } else {
                    current = (frame, remaining - take)
                }
                continue
            }
            if sawTrailers { try fail(.dataAfterTrailers(offset: streamOffset)) }
            let take = min(GRPCMessageFrame.prefixSize - prefixCount, bytes.endIndex - index)
            for byte in bytes[index..<(index + take)] { prefixBits = prefixBits << 8 | UInt64(byte) }
            prefixCount += take
            index += take
            streamOffset += take
            if prefixCount == GRPCMessageFrame.prefixSize {
                try startFrame(into: &events)
            }
        }
    }

    /// Consumes `bytes` and returns the events they complete.
    public mutating func consume(_ bytes: [UInt8]) throws(GRPCFramingError) -> [GRPCFramerEvent] {
        var events: [GRPCFramerEvent] = []
        try consume(bytes[...], into: &events)
        return events
    }

    /// The stream ended (END_STREAM, or the end of an HTTP/1 body).
    /// - Throws: `truncated` when it ended inside a frame, or the error the framer failed with.
    public mutating func finish() throws(GRPCFramingError) {
        if let failure { throw failure }
        if let (frame, remaining) = current {
            let expected = GRPCMessageFrame.prefixSize + frame.length
            try fail(.truncated(received: expected - remaining, expected: expected, frameOffset: frame.frameOffset))
        }
        if prefixCount > 0 {
            try fail(.truncated(received: prefixCount, expected: GRPCMessageFrame.prefixSize,
                                frameOffset: streamOffset - prefixCount))
        }
    }

    /// Reads the buffered prefix and starts its frame (emitting it at once when empty).
    private mutating func startFrame(into events: inout [GRPCFramerEvent]) throws(GRPCFramingError) {
        let flags = UInt8(truncatingIfNeeded: prefixBits >> 32)
        let length = Int(prefixBits & 0xFFFF_FFFF)
        let frameOffset = streamOffset - GRPCMessageFrame.prefixSize
        prefixBits = 0
        prefixCount = 0
        let allowed: UInt8 = framing == .grpcWeb ? GRPCMessageFrame.compressedFlag | GRPCMessageFrame.trailersFlag
                                                 : GRPCMessageFrame.compressedFlag
        if flags & ~allowed != 0 || flags == GRPCMessageFrame.compressedFlag | GRPCMessageFrame.trailersFlag {
            try fail(.reservedFlags(flags, frameOffset: frameOffset))
        }
        guard length <= maxMessageBytes else {
            try fail(.messageTooLarge(length: length, limit: maxMessageBytes, frameOffset: frameOffset))
        }
        let frame = GRPCMessageFrame(flags: flags, frameOffset: frameOffset,
                                     payloadRange: streamOffset..<(streamOffset + length))
        if length == 0 {
            try emit(frame, into: &events)
        } else {
            current = (frame, length)
        }
    }

    private mutating func emit(_ frame: GRPCMessageFrame, into events: inout [GRPCFramerEvent]) throws(GRPCFramingError) {
        guard framing == .grpcWeb, frame.flags & GRPCMessageFrame.trailersFlag != 0 else {
            events.append(.message(frame))
            return
        }
        let payload = trailerPayload
        trailerPayload = []
        sawTrailers = true
        guard let fields = Self.trailerFields(payload) else { try fail(.malformedTrailers(frameOffset: frame.frameOffset)) }
        events.append(.trailers(frame, fields: fields))
    }

    private mutating func fail(_ error: GRPCFramingError) throws(GRPCFramingError) -> Never {
        failure = error
        throw error
    }

    /// The fields of a gRPC-Web trailer payload: `name: value` lines ending in CRLF (a bare
    /// LF is accepted, and so is a last line without one); nil for a line without a colon
    /// or with an empty name.
    static func trailerFields(_ payload: [UInt8]) -> HTTPHeaders? {
        var fields = HTTPHeaders()
        for line in payload.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let content = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            if content.isEmpty { continue }
            guard let colon = content.firstIndex(of: UInt8(ascii: ":")), colon > content.startIndex else { return nil }
            let name = String(decoding: content[..<colon], as: UTF8.self).lowercased()
            let value = content[(colon + 1)...].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            let trimmed = value.reversed().drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.reversed()
            fields.add(name: name, value: String(decoding: trimmed, as: UTF8.self))
        }
        return fields
    }
}
