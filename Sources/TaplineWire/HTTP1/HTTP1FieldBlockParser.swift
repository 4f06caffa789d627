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
    /// section's final empty line.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
                      framing: inout HTTP1FramingFields) throws(HTTP1ParseError) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(12, bytes: end - start)
        var lineStart = start
        while lineStart < end {
            // The scanner checked the section: every line before `end` ends in CRLF.
            let lineEnd = bytes.firstIndex(of: HTTP1ByteClass.cr, in: lineStart..<end) ?? end
            try parseLine(bytes, lineStart, lineEnd, into: &headers, framing: &framing)
            lineStart = lineEnd + 2
        }
        return headers
    }

    private static func parseLine(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                  into headers: inout HTTPHeaders,
                                  framing: inout HTTP1FramingFields) throws(HTTP1ParseError) {
        if HTTP1ByteClass.isWhitespace(bytes[start]) { throw .obsoleteLineFolding }
        var colon = start
        while colon < end, HTTP1ByteClass.isToken(bytes[colon]) { colon += 1 }
        guard colon < end, colon > start, bytes[colon] == HTTP1ByteClass.colon else {
            var stop = colon
            while stop < end, bytes[stop] != HTTP1ByteClass.colon { stop += 1 }
            throw .invalidHeaderName(HTTP1ByteClass.excerpt(bytes, start, stop))
        }
        var valueStart = colon + 1
        var valueEnd = end
        while valueStart < valueEnd, HTTP1ByteClass.isWhitespace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, HTTP1ByteClass.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        var i = valueStart
        while i < valueEnd {
            if !HTTP1ByteClass.isFieldValueByte(bytes[i]) {
                throw .invalidHeaderValue(name: HTTP1ByteClass.string(bytes, start, colon))
            }
            i += 1
        }
        noteFramingField(bytes, start, colon, valueStart, valueEnd, framing: &framing)
        headers.add(name: UnsafeBufferPointer(rebasing: bytes[start..<colon]),
                    value: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]))
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
