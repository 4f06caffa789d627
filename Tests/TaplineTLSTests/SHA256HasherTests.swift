import TaplineTLS
import XCTest

/// `SHA256Hasher` against the one-call `SHA256Digest.hex` (and a published value): the
/// same bytes handed over in any pieces give the same digest.
final class SHA256HasherTests: XCTestCase {
    func testNoInputIsTheDigestOfNothing() {
        let hasher = SHA256Hasher()
        hasher.update([][...])
        XCTAssertEqual(hasher.finishHex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testEverySplitOfAShortInputGivesTheOneCallDigest() {
        let bytes = Array("The quick brown fox jumps over the lazy dog, twice over: 0123456789abcdef!".utf8)
        let expected = SHA256Digest.hex(bytes)
        XCTAssertEqual(expected, SHA256Digest.hex(Array(bytes)))
        for first in 0...bytes.count {
            for second in first...bytes.count {
                let hasher = SHA256Hasher()
                hasher.update(bytes[..<first])
                hasher.update(bytes[first..<second])
                hasher.update(bytes[second...])
                XCTAssertEqual(hasher.finishHex(), expected, "split at \(first) and \(second)")
            }
        }
    }

    func testALargeInputInUnevenPiecesGivesTheOneCallDigest() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(3 << 20) + 17).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let hasher = SHA256Hasher()
        var start = 0
        var size = 1
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            hasher.update(bytes[start..<end])
            start = end
            size = size * 3 + 1
        }
        XCTAssertEqual(hasher.finishHex(), SHA256Digest.hex(bytes))
    }
}
