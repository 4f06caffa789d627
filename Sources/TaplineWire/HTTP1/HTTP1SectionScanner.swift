/// Finds the end of a header or trailer section (the empty line) as bytes arrive,
/// remembering how far it has looked so that a later call does not start over. CRs and
/// LFs are found eight bytes at a time (`HTTP1ByteClass.lineEndingCandidateBits`), in one pass.
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
        if i >= end { // nothing new to look at
            if available >= limit { throw tooLarge }
            return nil
        }
        let found: Int? = try buffer.withReadableBytes { (p: UnsafeBufferPointer<UInt8>) throws(HTTP1ParseError) -> Int? in
            while i < end {
                // Skip eight bytes at a time to the first CR or LF (or a control below
                // them, passed over byte by byte). A CR must be followed
                // by LF (the byte after it may lie past the limit; when it has not
                // arrived, wait); an LF not right after a CR is bare.
                if i &+ 8 <= end {
                    let flagged = HTTP1ByteClass.lineEndingCandidateBits(HTTP1ByteClass.word(p, at: i))
                    if flagged == 0 {
                        i &+= 8
                        continue
                    }
                    i &+= HTTP1ByteClass.firstFlagged(flagged)
                }
                let c = p[i]
                if c == HTTP1ByteClass.lf { throw .bareLineFeed }
                if c != HTTP1ByteClass.cr {
                    i &+= 1
                    continue
                }
                if i &+ 1 >= available { return nil } // wait for the byte after CR
                if p[i &+ 1] != HTTP1ByteClass.lf { throw .bareCarriageReturn }
                if i &+ 1 == end { // the LF lies past the limit
                    i = end
                    return nil
                }
                if i == lineStart { return i &+ 2 }
                i &+= 2
                lineStart = i
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
