/// Parses request lines and status lines (RFC 9112 §3, §4) from bytes whose
/// line ending was already checked. Strict: single SP separators, token
/// methods, `HTTP/DIGIT.DIGIT` versions (only 1.0 and 1.1 supported).
enum HTTP1StartLineParser {
    struct RequestLine {
        var method: String
        var target: String
        var version: HTTPVersion
        var isConnect: Bool
    }

    struct StatusLine {
        var version: HTTPVersion
        var status: Int
        var reason: String
    }

    /// Parses `method SP request-target SP HTTP-version` in `bytes[0..<end]`.
    static func parseRequestLine(_ bytes: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTP1ParseError) -> RequestLine {
        var i = 0
        while i < end, HTTP1ByteClass.isToken(bytes[i]) { i += 1 }
        let methodEnd = i
        guard methodEnd > 0, i < end, bytes[i] == HTTP1ByteClass.space else {
            throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, end))
        }
        i += 1
        let targetStart = i
        var asciiOnly = true
        while i < end, bytes[i] != HTTP1ByteClass.space {
            let c = bytes[i]
            guard HTTP1ByteClass.isTargetByte(c) else { throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, end)) }
            if c >= 0x80 { asciiOnly = false }
            i += 1
        }
        let targetEnd = i
        guard targetEnd > targetStart, i < end else { throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, end)) }
        let version = try parseVersion(bytes, i + 1, end, line: end)
        let isConnect = HTTP1ByteClass.equals(bytes, 0, methodEnd, "CONNECT")
        let isOptions = HTTP1ByteClass.equals(bytes, 0, methodEnd, "OPTIONS")
        guard isValidTargetForm(bytes, targetStart, targetEnd, isConnect: isConnect, isOptions: isOptions) else {
            throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, end))
        }
        let target: String
        if asciiOnly {
            target = HTTP1ByteClass.string(bytes, targetStart, targetEnd)
        } else if let decoded = String(validating: UnsafeBufferPointer(rebasing: bytes[targetStart..<targetEnd]), as: UTF8.self) {
            target = decoded
        } else {
            throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, end))
        }
        return RequestLine(method: HTTP1ByteClass.string(bytes, 0, methodEnd), target: target,
                           version: version, isConnect: isConnect)
    }

    /// Parses `HTTP-version SP 3DIGIT [SP reason-phrase]` in `bytes[0..<end]`.
    /// The SP before an empty reason may be missing.
    static func parseStatusLine(_ bytes: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTP1ParseError) -> StatusLine {
        var i = 0
        while i < end, bytes[i] != HTTP1ByteClass.space { i += 1 }
        guard i > 5, HTTP1ByteClass.equals(bytes, 0, 5, "HTTP/") else {
            throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, end))
        }
        let version = try parseVersion(bytes, 0, i, line: end)
        guard i < end else { throw .invalidStatusCode("") }
        i += 1
        let codeStart = i
        var status = 0
        while i < end, bytes[i] != HTTP1ByteClass.space {
            let c = bytes[i]
            guard HTTP1ByteClass.isDigit(c), i - codeStart < 3 else {
                var stop = i
                while stop < end, bytes[stop] != HTTP1ByteClass.space { stop += 1 }
                throw .invalidStatusCode(HTTP1ByteClass.excerpt(bytes, codeStart, stop))
            }
            status = status * 10 + Int(c &- 0x30)
            i += 1
        }
        guard i - codeStart == 3, status >= 100 else {
            throw .invalidStatusCode(HTTP1ByteClass.excerpt(bytes, codeStart, i))
        }
        var reason = ""
        if i < end {
            let reasonStart = i + 1
            for j in reasonStart..<end where !HTTP1ByteClass.isFieldValueByte(bytes[j]) {
                throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, end))
            }
            reason = HTTP1ByteClass.string(bytes, reasonStart, end)
        }
        return StatusLine(version: version, status: status, reason: reason)
    }

    /// `HTTP/1.0` or `HTTP/1.1` in `bytes[start..<end]`.
    private static func parseVersion(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                     line: Int) throws(HTTP1ParseError) -> HTTPVersion {
        for i in start..<end where bytes[i] == HTTP1ByteClass.space {
            throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, line))
        }
        guard end - start >= 5, HTTP1ByteClass.equals(bytes, start, start + 5, "HTTP/") else {
            throw .invalidStartLine(HTTP1ByteClass.excerpt(bytes, 0, line))
        }
        guard end - start == 8,
              HTTP1ByteClass.isDigit(bytes[start + 5]), bytes[start + 6] == 0x2E, HTTP1ByteClass.isDigit(bytes[start + 7])
        else {
            throw .unsupportedVersion(HTTP1ByteClass.excerpt(bytes, start, end))
        }
        let version = HTTPVersion(major: Int(bytes[start + 5] &- 0x30), minor: Int(bytes[start + 7] &- 0x30))
        guard version == .http1_1 || version == .http1_0 else {
            throw .unsupportedVersion(HTTP1ByteClass.excerpt(bytes, start, end))
        }
        return version
    }

    /// RFC 9112 §3.2: authority-form only (and always) for CONNECT, asterisk-form
    /// only for OPTIONS, otherwise origin-form (`/...`) or absolute-form (`scheme:...`).
    private static func isValidTargetForm(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                          isConnect: Bool, isOptions: Bool) -> Bool {
        let first = bytes[start]
        if isConnect {
            // host:port; no path, query or fragment.
            var sawColon = false
            for i in start..<end {
                switch bytes[i] {
                case 0x2F, 0x3F, 0x23, 0x40: return false // / ? # @
                case HTTP1ByteClass.colon: sawColon = true
                default: break
                }
            }
            return sawColon && first != HTTP1ByteClass.colon
        }
        if first == 0x2A { return isOptions && end - start == 1 } // *
        if first == 0x2F { return true } // origin-form
        // absolute-form: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
        guard (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A else { return false }
        var i = start + 1
        while i < end {
            let c = bytes[i]
            if c == HTTP1ByteClass.colon { return i + 1 < end }
            let isSchemeChar = ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A) || HTTP1ByteClass.isDigit(c)
                || c == 0x2B || c == 0x2D || c == 0x2E
            guard isSchemeChar else { return false }
            i += 1
        }
        return false
    }
}
