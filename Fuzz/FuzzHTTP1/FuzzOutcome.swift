import TaplineWire

/// Everything a parser said about one input, with body chunks concatenated, so
/// that runs over differently split input can be compared.
struct FuzzOutcome: Equatable, CustomStringConvertible {
    enum Item: Equatable {
        case requestHead(HTTPRequestHead)
        case responseHead(HTTPResponseHead)
        case body([UInt8])
        case end(HTTPHeaders?)
    }

    var items: [Item] = []
    var error: HTTP1ParseError?
    var finishError: HTTP1ParseError?
    /// What `takeUnparsedBytes()` returned at the end (only when no error was thrown).
    var unparsed: [UInt8] = []

    var description: String { "\(items.count) items, error \(String(describing: error)), finish \(String(describing: finishError)), \(unparsed.count) unparsed" }

    /// Small limits so that the limit paths are reached with small inputs.
    static let limits = HTTP1Limits(maxHeaderSectionBytes: 512, maxTrailerSectionBytes: 128, maxChunkLineBytes: 64)

    mutating func add(body bytes: ArraySlice<UInt8>) {
        if bytes.isEmpty { fatalError("empty body chunk") }
        if case .body(let previous)? = items.last {
            items[items.count - 1] = .body(previous + bytes)
        } else {
            items.append(.body(Array(bytes)))
        }
    }

    static func requests(_ chunks: [ArraySlice<UInt8>]) -> FuzzOutcome {
        var outcome = FuzzOutcome()
        var parser = HTTP1RequestParser(limits: limits)
        func drain() {
            do {
                while let event = try parser.nextEvent() {
                    switch event {
                    case .head(let head): outcome.items.append(.requestHead(head))
                    case .body(let bytes): outcome.add(body: bytes)
                    case .end(let trailers): outcome.items.append(.end(trailers))
                    }
                }
            } catch {
                outcome.error = error
            }
        }
        for chunk in chunks where outcome.error == nil {
            parser.append(chunk)
            drain()
            _ = parser.isIdle
            _ = parser.bufferedByteCount
        }
        if outcome.error == nil {
            do { try parser.finish() } catch { outcome.finishError = error }
            drain()
        }
        // After an error the input stops being fed, so what is left depends on the split.
        let rest = parser.takeUnparsedBytes()
        if outcome.error == nil { outcome.unparsed = rest }
        parser.resumeAfterDeclinedUpgrade()
        return outcome
    }

    static func responses(_ chunks: [ArraySlice<UInt8>]) -> FuzzOutcome {
        var outcome = FuzzOutcome()
        var parser = HTTP1ResponseParser(limits: limits)
        for method in ["GET", "HEAD", "CONNECT", "POST"] { parser.expectResponse(toMethod: method) }
        func drain() {
            do {
                while let event = try parser.nextEvent() {
                    switch event {
                    case .head(let head): outcome.items.append(.responseHead(head))
                    case .body(let bytes): outcome.add(body: bytes)
                    case .end(let trailers): outcome.items.append(.end(trailers))
                    }
                }
            } catch {
                outcome.error = error
            }
        }
        for chunk in chunks where outcome.error == nil {
            parser.append(chunk)
            drain()
            _ = parser.isReadingUntilClose
        }
        if outcome.error == nil {
            do { try parser.finish() } catch { outcome.finishError = error }
            drain()
        }
        // After an error the input stops being fed, so what is left depends on the split.
        let rest = parser.takeUnparsedBytes()
        if outcome.error == nil { outcome.unparsed = rest }
        return outcome
    }
}
