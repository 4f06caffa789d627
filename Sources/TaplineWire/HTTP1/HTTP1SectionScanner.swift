/// Finds the end of a header or trailer section (the empty line) as bytes arrive,
/// remembering how far it has looked so that no byte is examined twice.
///
/// While scanning it enforces the line-ending policy shared by both parsers:
/// every line ends in CRLF; a bare CR or a bare LF is an error (lenient LF-only
/// parsing is a request-smuggling vector when the next hop disagrees). It also
/// enforces the section size limit before the section is complete.
///
/// Invariant: offsets are relative to the owning buffer's read index, so the
/// buffer must not be consumed between a `scan` that returned nil and the next one.
/// A value type owned by one parser.
struct HTTP1SectionScanner: Sendable {
    /// Offset of the next byte to examine.
    private var scanned = 0
    /// Offset of the first byte of the current line.
    private var lineStart = 0

    /// True before any byte of the current section was examined.
    var isAtStart: Bool { scanned == 0 }

    /// Returns the length of the section including its final empty line, or nil
    /// when more bytes are needed. Throws `tooLarge` when the section cannot end
    /// within `limit` bytes. After a non-nil result the scanner is reset.
    mutating func scan(_ buffer: HTTP1ByteBuffer, limit: Int,
                       tooLarge: HTTP1ParseError) throws(HTTP1ParseError) -> Int? {
        let available = buffer.readableCount
        let end = min(available, limit)
        var i = scanned
        var lineStart = self.lineStart
        let found: Int? = try buffer.withReadableBytes { (p: UnsafeBufferPointer<UInt8>) throws(HTTP1ParseError) -> Int? in
            while i < end {
                let c = p[i]
                if c == HTTP1ByteClass.lf {
                    guard i > 0, p[i - 1] == HTTP1ByteClass.cr else { throw .bareLineFeed }
                    if i - 1 == lineStart { return i + 1 }
                    lineStart = i + 1
                } else if c == HTTP1ByteClass.cr {
                    if i + 1 >= available { return nil } // wait for the byte after CR
                    if p[i + 1] != HTTP1ByteClass.lf { throw .bareCarriageReturn }
                }
                i += 1
            }
            return nil
        }
        if let found {
            self = HTTP1SectionScanner()
            return found
        }
        scanned = i
        self.lineStart = lineStart
        if available >= limit { throw tooLarge }
        return nil
    }
}
