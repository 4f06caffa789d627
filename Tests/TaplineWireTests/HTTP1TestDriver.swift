import XCTest
@testable import TaplineWire

/// What a parser produced for a whole input, with adjacent body chunks merged so
/// that runs with different input splits compare equal.
enum HTTP1Observed: Equatable, CustomStringConvertible {
    case requestHead(HTTPRequestHead)
    case responseHead(HTTPResponseHead)
    case body([UInt8])
    case end(HTTPHeaders?)
    /// Bytes left for `takeUnparsedBytes()` once the parser had nothing more to say.
    case unparsed([UInt8])
    case error(HTTP1ParseError)

    var description: String {
        switch self {
        case .requestHead(let h): return "requestHead(\(h.method) \(h.target) \(h.version) \(h.headers.fields))"
        case .responseHead(let h): return "responseHead(\(h.version) \(h.status) \(h.reason) \(h.headers.fields))"
        case .body(let b): return "body(\(String(decoding: b, as: UTF8.self).debugDescription))"
        case .end(let t): return "end(\(t.map { "\($0.fields)" } ?? "nil"))"
        case .unparsed(let b): return "unparsed(\(b.count) bytes)"
        case .error(let e): return "error(\(e))"
        }
    }
}

/// Feeds inputs to the parsers in different splits and collects `HTTP1Observed` lists.
enum HTTP1TestDriver {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The input whole, split in two at every offset, and byte by byte.
    static func splits(of input: [UInt8]) -> [(name: String, chunks: [ArraySlice<UInt8>])] {
        var result: [(String, [ArraySlice<UInt8>])] = [("whole", [input[...]])]
        for offset in 0...input.count {
            result.append(("split at \(offset)", [input[0..<offset], input[offset...]]))
        }
        result.append(("byte by byte", input.indices.map { input[$0...$0] }))
        return result
    }

    static func runRequests(_ chunks: [ArraySlice<UInt8>], finish: Bool = false,
                            limits: HTTP1Limits = HTTP1Limits()) -> [HTTP1Observed] {
        var parser = HTTP1RequestParser(limits: limits)
        var out: [HTTP1Observed] = []
        func pull() -> Bool {
            do {
                while let event = try parser.nextEvent() {
                    switch event {
                    case .head(let h): out.append(.requestHead(h))
                    case .body(let b): appendBody(b, to: &out)
                    case .end(let t): out.append(.end(t))
                    }
                }
                return true
            } catch {
                out.append(.error(error))
                return false
            }
        }
        for chunk in chunks {
            parser.append(chunk)
            if !pull() { return out }
        }
        if finish {
            do { try parser.finish() } catch { out.append(.error(error)); return out }
            if !pull() { return out }
        }
        let rest = parser.takeUnparsedBytes()
        if !rest.isEmpty { out.append(.unparsed(rest)) }
        return out
    }

    static func runResponses(_ chunks: [ArraySlice<UInt8>], methods: [String], finish: Bool = false,
                             limits: HTTP1Limits = HTTP1Limits()) -> [HTTP1Observed] {
        var parser = HTTP1ResponseParser(limits: limits)
        for method in methods { parser.expectResponse(toMethod: method) }
        var out: [HTTP1Observed] = []
        func pull() -> Bool {
            do {
                while let event = try parser.nextEvent() {
                    switch event {
                    case .head(let h): out.append(.responseHead(h))
                    case .body(let b): appendBody(b, to: &out)
                    case .end(let t): out.append(.end(t))
                    }
                }
                return true
            } catch {
                out.append(.error(error))
                return false
            }
        }
        for chunk in chunks {
            parser.append(chunk)
            if !pull() { return out }
        }
        if finish {
            do { try parser.finish() } catch { out.append(.error(error)); return out }
            if !pull() { return out }
        }
        let rest = parser.takeUnparsedBytes()
        if !rest.isEmpty { out.append(.unparsed(rest)) }
        return out
    }

    private static func appendBody(_ bytes: ArraySlice<UInt8>, to out: inout [HTTP1Observed]) {
        XCTAssertFalse(bytes.isEmpty, "empty body chunk yielded")
        if case .body(let previous)? = out.last {
            out[out.count - 1] = .body(previous + bytes)
        } else {
            out.append(.body(Array(bytes)))
        }
    }

    /// Asserts that every split of `input` gives `expected`.
    static func assertRequests(_ input: [UInt8], give expected: [HTTP1Observed], finish: Bool = false,
                               limits: HTTP1Limits = HTTP1Limits(),
                               file: StaticString = #filePath, line: UInt = #line) {
        for (name, chunks) in splits(of: input) {
            let observed = runRequests(chunks, finish: finish, limits: limits)
            if observed != expected {
                XCTFail("\(name): got \(observed), expected \(expected)", file: file, line: line)
                return
            }
        }
    }

    static func assertResponses(_ input: [UInt8], methods: [String], give expected: [HTTP1Observed],
                                finish: Bool = false, limits: HTTP1Limits = HTTP1Limits(),
                                file: StaticString = #filePath, line: UInt = #line) {
        for (name, chunks) in splits(of: input) {
            let observed = runResponses(chunks, methods: methods, finish: finish, limits: limits)
            if observed != expected {
                XCTFail("\(name): got \(observed), expected \(expected)", file: file, line: line)
                return
            }
        }
    }
}
