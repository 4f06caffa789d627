/// Parses the field lines of a header or trailer section whose line endings the
/// `HTTP1SectionScanner` already checked (every line ends in CRLF, no bare CR/LF).
///
/// Rules (RFC 9112 §5): a line starting with SP/HTAB is obs-fold and refused; a
/// field name is a non-empty token directly followed by `:` (whitespace before
/// the colon is refused); values lose leading/trailing SP/HTAB and may not hold
/// controls other than HTAB, nor DEL. Names keep their case; order is kept.
/// Names and values are kept as the bytes received (obs-text included); a `String`
/// is made only where one is read (see `HTTPHeaders`).
enum HTTP1FieldBlockParser {
    /// Parses the lines in `bytes[start..<end]`, where `end` is the offset of the
    /// section's final empty line (so `bytes[end]` is its CR).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
                      framing: inout HTTP1FramingFields) throws(HTTP1ParseError) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(12, bytes: end - start)
        var lineStart = start
        while lineStart < end {
            lineStart = try parseLine(bytes, lineStart, end, into: &headers, framing: &framing)
        }
        return headers
    }

    /// Parses the line starting at `start` (before `sectionEnd`) in one pass: the name
    /// up to the colon, then the value, whose check for forbidden bytes also finds the
    /// CR that ends the line (the scanner guarantees that the first CR is that one and
    /// that the line holds no LF). Returns where the next line starts.
    private static func parseLine(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ sectionEnd: Int,
                                  into headers: inout HTTPHeaders,
                                  framing: inout HTTP1FramingFields) throws(HTTP1ParseError) -> Int {
        // Lines before the section's end are not empty, and a CR (not a tchar) ends each.
        if HTTP1ByteClass.isWhitespace(bytes[start]) { throw .obsoleteLineFolding }
        var colon = start
        while HTTP1ByteClass.isToken(bytes[colon]) { colon &+= 1 }
        guard colon > start, bytes[colon] == HTTP1ByteClass.colon else {
            let lineEnd = bytes.firstIndex(of: HTTP1ByteClass.cr, in: colon..<sectionEnd) ?? sectionEnd
            var stop = colon
            while stop < lineEnd, bytes[stop] != HTTP1ByteClass.colon { stop += 1 }
            throw .invalidHeaderName(HTTP1ByteClass.excerpt(bytes, start, stop))
        }
        var valueStart = colon &+ 1
        while HTTP1ByteClass.isWhitespace(bytes[valueStart]) { valueStart &+= 1 }
        // The line's CR: skip words without controls or DEL, then look at the first one
        // (HTAB is allowed and passed; any other control or DEL is refused).
        var lineEnd = valueStart
        let wordLimit = bytes.count &- 8
        while true {
            if lineEnd <= wordLimit {
                let flagged = HTTP1ByteClass.controlOrDeleteBits(HTTP1ByteClass.word(bytes, at: lineEnd))
                if flagged == 0 {
                    lineEnd &+= 8
                    continue
                }
                lineEnd &+= HTTP1ByteClass.firstFlagged(flagged)
            }
            let c = bytes[lineEnd]
            if c == HTTP1ByteClass.cr { break }
            guard HTTP1ByteClass.isFieldValueByte(c) else {
                throw .invalidHeaderValue(name: HTTP1ByteClass.string(bytes, start, colon))
            }
            lineEnd &+= 1
        }
        var valueEnd = lineEnd
        while valueEnd > valueStart, HTTP1ByteClass.isWhitespace(bytes[valueEnd &- 1]) { valueEnd &-= 1 }
        noteFramingField(bytes, start, colon, valueStart, valueEnd, framing: &framing)
        headers.add(name: UnsafeBufferPointer(rebasing: bytes[start..<colon]),
                    value: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]))
        return lineEnd &+ 2
    }

    @inline(__always)
    private static func noteFramingField(_ bytes: UnsafeBufferPointer<UInt8>, _ nameStart: Int, _ nameEnd: Int,
                                         _ valueStart: Int, _ valueEnd: Int,
                                         framing: inout HTTP1FramingFields) {
        switch nameEnd - nameStart {
        case 4:
            if HTTP1ByteClass.equalsIgnoringCase(bytes, nameStart, nameEnd, "host") { framing.hostCount += 1 }
        case 7:
            if HTTP1ByteClass.equalsIgnoringCase(bytes, nameStart, nameEnd, "upgrade") { framing.hasUpgrade = true }
        case 14:
            if HTTP1ByteClass.equalsIgnoringCase(bytes, nameStart, nameEnd, "content-length") {
                framing.addContentLength(bytes, valueStart, valueEnd)
            }
        case 17:
            if HTTP1ByteClass.equalsIgnoringCase(bytes, nameStart, nameEnd, "transfer-encoding") {
                framing.hasTransferEncoding = true
            }
        default:
            break
        }
    }
}
