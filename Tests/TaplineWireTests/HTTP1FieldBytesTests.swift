import XCTest
@testable import TaplineWire

/// The section scanner and the field line parser look at eight bytes at a time: every
/// byte class they treat differently (controls, DEL, HTAB, CR, LF, obs-text) is put at
/// every offset of lines longer than a word, and each input is split at every offset.
final class HTTP1FieldBytesTests: XCTestCase {
    private typealias D = HTTP1TestDriver

    private static let name = "X-Long-Field-Name"
    private static let valueLength = 21

    /// A response head whose second field's value is `value`, then a two-byte body.
    private static func response(value: [UInt8]) -> [UInt8] {
        D.bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\(name): ") + value + D.bytes("\r\nServer: test\r\n\r\nok")
    }

    /// What every split of `input` gives (failing when two splits differ).
    private func observe(_ input: [UInt8], limits: HTTP1Limits = HTTP1Limits(),
                         file: StaticString = #filePath, line: UInt = #line) -> [HTTP1Observed] {
        var reference: [HTTP1Observed]?
        for (name, chunks) in D.splits(of: input) {
            let observed = D.runResponses(chunks, methods: ["GET"], limits: limits)
            if let reference, reference != observed {
                XCTFail("\(name): got \(observed), whole input gave \(reference)", file: file, line: line)
                break
            }
            reference = observed
        }
        return reference ?? []
    }

    func testEveryByteClassAtEveryOffsetOfALongValue() {
        let refused: [UInt8] = [0x00, 0x01, 0x08, 0x0B, 0x0C, 0x1F, 0x7F]
        let allowed: [UInt8] = [0x09, 0x20, 0x21, 0x3A, 0x7E, 0x80, 0xC3, 0xFF]
        for offset in 0..<Self.valueLength {
            for byte in refused + allowed + [HTTP1ByteClass.cr, HTTP1ByteClass.lf] {
                var value = Array(repeating: UInt8(ascii: "v"), count: Self.valueLength)
                value[offset] = byte
                let observed = observe(Self.response(value: value))
                let context = "byte \(byte) at offset \(offset): \(observed)"
                switch byte {
                case HTTP1ByteClass.cr:
                    XCTAssertEqual(observed, [.error(.bareCarriageReturn)], context)
                case HTTP1ByteClass.lf:
                    XCTAssertEqual(observed, [.error(.bareLineFeed)], context)
                case _ where refused.contains(byte):
                    XCTAssertEqual(observed, [.error(.invalidHeaderValue(name: Self.name))], context)
                default:
                    var trimmed = value[...]
                    while let first = trimmed.first, first == 0x20 || first == 0x09 { trimmed.removeFirst() }
                    while let last = trimmed.last, last == 0x20 || last == 0x09 { trimmed.removeLast() }
                    guard observed.count == 3, case .responseHead(let head) = observed[0] else {
                        XCTFail(context)
                        continue
                    }
                    XCTAssertEqual(head.headers.count, 3, context)
                    head.headers.withUnsafeFieldBytes { fields in
                        XCTAssertEqual(Array(fields.name(1)), D.bytes(Self.name), context)
                        XCTAssertEqual(Array(fields.value(1)), Array(trimmed), context)
                        XCTAssertEqual(Array(fields.value(2)), D.bytes("test"), context)
                    }
                    XCTAssertEqual(Array(observed[1...]), [.body(D.bytes("ok")), .end(nil)], context)
                }
            }
        }
    }

    func testLongValuesKeepTheirBytesAndLoseOuterWhitespace() {
        let value = D.bytes("\t  a\tb  c ") + [0xE2, 0x82, 0xAC] + D.bytes(String(repeating: "d", count: 30) + " \t \t  ")
        let observed = observe(Self.response(value: value))
        guard case .responseHead(let head)? = observed.first else { return XCTFail("\(observed)") }
        head.headers.withUnsafeFieldBytes { fields in
            XCTAssertEqual(Array(fields.value(1)), Array(value[3..<(value.count - 6)]))
        }
        XCTAssertEqual(head.headers.first(name: Self.name), "a\tb  c €" + String(repeating: "d", count: 30))
    }

    func testLineEndingsAtEveryOffsetOfTheNameAndStartLine() {
        let head = D.bytes("HTTP/1.1 200 Everything-Fine\r\nX-A-Rather-Long-Name: 1\r\nContent-Length: 0\r\n\r\n")
        let nameEnd = head.firstIndex(of: UInt8(ascii: ":"))!
        for offset in 0..<nameEnd where head[offset] != HTTP1ByteClass.cr && head[offset] != HTTP1ByteClass.lf {
            var bareCR = head
            bareCR[offset] = HTTP1ByteClass.cr
            XCTAssertEqual(observe(bareCR), [.error(.bareCarriageReturn)], "CR at \(offset)")
            var bareLF = head
            bareLF[offset] = HTTP1ByteClass.lf
            XCTAssertEqual(observe(bareLF), [.error(.bareLineFeed)], "LF at \(offset)")
        }
    }

    /// Line endings are checked over the whole section before any field: a bad name or
    /// value earlier in the section gives way to a bare CR or LF after it.
    func testLineEndingErrorsComeBeforeFieldErrors() {
        let badName = "HTTP/1.1 200 OK\r\nBad Name-Is-Long: 1\r\n"
        let badValue = "HTTP/1.1 200 OK\r\nX-Value: a long value with a \u{01} in it\r\n"
        XCTAssertEqual(observe(D.bytes(badName + "X-Long-Enough: abc\ndef\r\n\r\n")), [.error(.bareLineFeed)])
        XCTAssertEqual(observe(D.bytes(badValue + "X-Long-Enough: abc\rdef\r\n\r\n")), [.error(.bareCarriageReturn)])
        XCTAssertEqual(observe(D.bytes(badName + "\r\n")), [.error(.invalidHeaderName("Bad Name-Is-Long"))])
        XCTAssertEqual(observe(D.bytes(badValue + "\r\n")), [.error(.invalidHeaderValue(name: "X-Value"))])
        XCTAssertEqual(observe(D.bytes("HTTP/1.1 200 OK\r\nX-Long-Line-Here: 1\r\n  folded into the line above\r\n\r\n")),
                       [.error(.obsoleteLineFolding)])
        XCTAssertEqual(observe(D.bytes("HTTP/1.1 200 OK\r\nNo-Colon-On-This-Long-Line\r\n\r\n")),
                       [.error(.invalidHeaderName("No-Colon-On-This-Long-Line"))])
    }

    /// The section must end within the limit: a CRLF whose LF is the first byte past it
    /// does not, while a bare CR there is still reported as one.
    func testCRLFAcrossTheLimit() {
        let limits = HTTP1Limits(maxHeaderSectionBytes: 40)
        let start = "HTTP/1.1 200 OK\r\nX-Padding: "
        func head(_ value: Int, _ rest: String) -> [UInt8] {
            D.bytes(start + String(repeating: "p", count: value) + rest)
        }
        // Exactly 40 bytes: the empty line's LF is the last byte allowed.
        XCTAssertEqual(head(40 - start.utf8.count - 4, "\r\n\r\n").count, 40)
        let exact = observe(head(40 - start.utf8.count - 4, "\r\n\r\n"), limits: limits)
        guard exact.count == 1, case .responseHead = exact[0] else { return XCTFail("\(exact)") }
        // One byte more: the empty line's LF, then a field line's LF, is past the limit.
        XCTAssertEqual(observe(head(40 - start.utf8.count - 3, "\r\n\r\n"), limits: limits),
                       [.error(.headerSectionTooLarge(limit: 40))])
        XCTAssertEqual(observe(head(40 - start.utf8.count - 1, "\r\nX: 1\r\n\r\n"), limits: limits),
                       [.error(.headerSectionTooLarge(limit: 40))])
        // (Whole: the byte after the CR is there to tell. Cut at the limit, the section is
        // too large before that byte arrives.)
        XCTAssertEqual(D.runResponses([head(40 - start.utf8.count - 1, "\rX: 1\r\n\r\n")[...]], methods: ["GET"],
                                      limits: limits),
                       [.error(.bareCarriageReturn)])
        XCTAssertEqual(observe(head(60, "\r\n\r\n"), limits: limits), [.error(.headerSectionTooLarge(limit: 40))])
    }

    /// The `tchar` table against RFC 9110 §5.6.2's definition, for every byte value.
    func testTokenCharactersAreExactlyRFC9110s() {
        let tchar = Set(D.bytes("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        for c in 0...255 {
            XCTAssertEqual(HTTP1ByteClass.isToken(UInt8(c)), tchar.contains(UInt8(c)), "byte \(c)")
        }
    }

    /// The word tests against their byte-at-a-time meaning: for words with every byte
    /// class at every position (and a second one after it), the first flagged byte is
    /// the first byte of the class.
    func testWordTestsFlagTheFirstByteOfTheirClass() {
        let samples: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0B, 0x0D, 0x0E, 0x1F, 0x20, 0x41, 0x7E, 0x7F, 0x80, 0xFF]
        for first in samples {
            for second in samples {
                for position in 0..<8 {
                    var bytes = Array(repeating: UInt8(ascii: "a"), count: 8)
                    bytes[position] = first
                    if position < 7 { bytes[7] = second }
                    let word = bytes.withUnsafeBufferPointer { HTTP1ByteClass.word($0, at: 0) }
                    let control = bytes.firstIndex { !HTTP1ByteClass.isFieldValueByte($0) || $0 == 0x09 }
                    let lineEnd = bytes.firstIndex { $0 < 0x0E }
                    let controlBits = HTTP1ByteClass.controlOrDeleteBits(word)
                    let lineEndBits = HTTP1ByteClass.lineEndingCandidateBits(word)
                    XCTAssertEqual(controlBits == 0 ? nil : HTTP1ByteClass.firstFlagged(controlBits), control, "\(bytes)")
                    XCTAssertEqual(lineEndBits == 0 ? nil : HTTP1ByteClass.firstFlagged(lineEndBits), lineEnd, "\(bytes)")
                }
            }
        }
    }
}
