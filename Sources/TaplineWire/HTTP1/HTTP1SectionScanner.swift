/// Finds the end of a header or trailer section (the empty line) as bytes arrive,
/// remembering how far it has looked so that a later call does not start over. Line
/// ends and carriage returns are found with `memchr`, not a byte at a time.
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
                // This line's LF (or `end`), then the first CR before it: each found with
                // `memchr`. The one CR allowed is the one right before the LF; a CR
                // elsewhere is bare (the LF is the first one, so the byte after such a CR
                // is not LF), except at the limit, where the byte after it decides.
                let lf = p.firstIndex(of: HTTP1ByteClass.lf, in: i..<end) ?? end
                if let cr = p.firstIndex(of: HTTP1ByteClass.cr, in: i..<lf) {
                    if cr + 1 >= available { // wait for the byte after CR
                        i = cr
                        return nil
                    }
                    if p[cr + 1] != HTTP1ByteClass.lf { throw .bareCarriageReturn }
                }
                if lf == end {
                    i = end
                    return nil
                }
                guard lf > 0, p[lf - 1] == HTTP1ByteClass.cr else { throw .bareLineFeed }
                if lf - 1 == lineStart { return lf + 1 }
                lineStart = lf + 1
                i = lf + 1
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
