/// What a header section says about message framing and routing, gathered
/// while its fields are parsed so that no second pass over the headers is needed.
struct HTTP1FramingFields: Sendable {
    enum ContentLength: Sendable, Equatable {
        case absent
        case value(Int)
        /// The first malformed value (non-digit, empty, or overflowing).
        case invalid(String)
        /// Two values that differ.
        case conflicting
    }

    var contentLength: ContentLength = .absent
    var hasTransferEncoding = false
    var hostCount = 0
    var hasUpgrade = false

    /// Folds one Content-Length field value (`bytes[start..<end]`, already trimmed)
    /// into `contentLength`. The list form `5, 5` is accepted when all elements agree.
    mutating func addContentLength(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
        if case .invalid = contentLength { return }
        var i = start
        repeat {
            while i < end, HTTP1ByteClass.isWhitespace(bytes[i]) { i += 1 }
            var value = 0
            var digits = 0
            while i < end, HTTP1ByteClass.isDigit(bytes[i]) {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(bytes[i] &- 0x30))
                if o1 || o2 {
                    contentLength = .invalid(HTTP1ByteClass.excerpt(bytes, start, end))
                    return
                }
                value = sum
                digits += 1
                i += 1
            }
            while i < end, HTTP1ByteClass.isWhitespace(bytes[i]) { i += 1 }
            guard digits > 0, i == end || bytes[i] == 0x2C else {
                contentLength = .invalid(HTTP1ByteClass.excerpt(bytes, start, end))
                return
            }
            switch contentLength {
            case .absent: contentLength = .value(value)
            case .value(let previous) where previous != value: contentLength = .conflicting
            default: break
            }
            if i < end { i += 1 } else { break }
        } while true
    }
}
