/// Reads one message body from an `HTTP1ByteBuffer` according to its framing:
/// a fixed length, chunked transfer coding (RFC 9112 §7.1), or until the
/// connection closes. Shared by the request and response parsers.
///
/// Body bytes are returned as slices of the buffer (no copy). Chunk extensions
/// are validated (no controls, no bare CR) and ignored; whitespace after a chunk
/// size is only accepted before a `;`. Trailer fields follow the header rules.
/// A value type owned by one parser.
struct HTTP1BodyDecoder: Sendable {
    enum Step: Sendable {
        case body(ArraySlice<UInt8>)
        case end(trailers: HTTPHeaders?)
        case needMoreData
    }

    private enum State: Sendable {
        case length(remaining: Int)
        /// `scanned`: bytes of the size line already searched for LF.
        case chunkSizeLine(scanned: Int)
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(HTTP1SectionScanner)
        case untilClose
        case done
    }

    private var state: State

    init(framing: HTTP1MessageFraming) {
        switch framing {
        case .none: state = .length(remaining: 0)
        case .length(let n): state = .length(remaining: n)
        case .chunked: state = .chunkSizeLine(scanned: 0)
        case .untilClose: state = .untilClose
        }
    }

    var isUntilClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// The next piece of the body. `atEOF`: the peer closed, which ends an
    /// until-close body (other framings report `.needMoreData`; the parser
    /// turns that into `truncatedMessage`).
    mutating func next(_ buffer: inout HTTP1ByteBuffer, limits: HTTP1Limits,
                       atEOF: Bool) throws(HTTP1ParseError) -> Step {
        while true {
            switch state {
            case .length(let remaining):
                if remaining == 0 {
                    state = .done
                    return .end(trailers: nil)
                }
                let n = min(remaining, buffer.readableCount)
                if n == 0 { return .needMoreData }
                state = .length(remaining: remaining - n)
                return .body(buffer.readSlice(n))

            case .chunkSizeLine(let scanned):
                guard let size = try readChunkSizeLine(&buffer, scanned: scanned, limits: limits) else {
                    return .needMoreData
                }
                state = size == 0 ? .trailers(HTTP1SectionScanner()) : .chunkData(remaining: size)

            case .chunkData(let remaining):
                let n = min(remaining, buffer.readableCount)
                if n == 0 { return .needMoreData }
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
                return .body(buffer.readSlice(n))

            case .chunkDataEnd:
                let available = buffer.readableCount
                if available >= 1, buffer.byte(at: 0) != HTTP1ByteClass.cr {
                    throw .invalidChunkSize("missing CRLF after chunk data")
                }
                if available < 2 { return .needMoreData }
                if buffer.byte(at: 1) != HTTP1ByteClass.lf {
                    throw .invalidChunkSize("missing CRLF after chunk data")
                }
                buffer.consume(2)
                state = .chunkSizeLine(scanned: 0)

            case .trailers(var scanner):
                guard let length = try scanner.scan(buffer, limit: limits.maxTrailerSectionBytes,
                                                    tooLarge: .trailerSectionTooLarge) else {
                    state = .trailers(scanner)
                    return .needMoreData
                }
                var trailers: HTTPHeaders?
                if length > 2 {
                    var ignored = HTTP1FramingFields()
                    trailers = try buffer.withReadableBytes { (p: UnsafeBufferPointer<UInt8>) throws(HTTP1ParseError) in
                        try HTTP1FieldBlockParser.parse(p, from: 0, to: length - 2, framing: &ignored)
                    }
                }
                buffer.consume(length)
                state = .done
                return .end(trailers: trailers)

            case .untilClose:
                let n = buffer.readableCount
                if n > 0 { return .body(buffer.readSlice(n)) }
                if atEOF {
                    state = .done
                    return .end(trailers: nil)
                }
                return .needMoreData

            case .done:
                return .needMoreData
            }
        }
    }

    /// Parses `chunk-size [ BWS ";" chunk-ext ] CRLF` and consumes it; nil when
    /// the line is not complete yet.
    private mutating func readChunkSizeLine(_ buffer: inout HTTP1ByteBuffer, scanned: Int,
                                            limits: HTTP1Limits) throws(HTTP1ParseError) -> Int? {
        let available = buffer.readableCount
        let end = min(available, limits.maxChunkLineBytes)
        let result: (lineFeed: Int, size: Int)? = try buffer.withReadableBytes {
            (p: UnsafeBufferPointer<UInt8>) throws(HTTP1ParseError) -> (lineFeed: Int, size: Int)? in
            var lf = scanned
            while lf < end, p[lf] != HTTP1ByteClass.lf { lf += 1 }
            guard lf < end else { return nil }
            guard lf > 0, p[lf - 1] == HTTP1ByteClass.cr else {
                throw .invalidChunkSize(HTTP1ByteClass.excerpt(p, 0, lf))
            }
            let lineEnd = lf - 1
            var i = 0
            var size = 0
            while i < lineEnd, let digit = HTTP1ByteClass.hexValue(p[i]) {
                let (times16, o1) = size.multipliedReportingOverflow(by: 16)
                let (sum, o2) = times16.addingReportingOverflow(digit)
                if o1 || o2 { throw .invalidChunkSize(HTTP1ByteClass.excerpt(p, 0, lineEnd)) }
                size = sum
                i += 1
            }
            guard i > 0 else { throw .invalidChunkSize(HTTP1ByteClass.excerpt(p, 0, lineEnd)) }
            if i < lineEnd {
                while i < lineEnd, HTTP1ByteClass.isWhitespace(p[i]) { i += 1 }
                guard i < lineEnd, p[i] == 0x3B else { // ;
                    throw .invalidChunkSize(HTTP1ByteClass.excerpt(p, 0, lineEnd))
                }
                for j in i..<lineEnd where !HTTP1ByteClass.isFieldValueByte(p[j]) {
                    throw .invalidChunkSize(HTTP1ByteClass.excerpt(p, 0, lineEnd))
                }
            }
            return (lf, size)
        }
        guard let result else {
            if available >= limits.maxChunkLineBytes { throw .chunkLineTooLong }
            state = .chunkSizeLine(scanned: end)
            return nil
        }
        buffer.consume(result.lineFeed + 1)
        return result.size
    }
}
