import XCTest
@testable import TaplineWire

final class Base64Tests: XCTestCase {
    func testStandardBase64RoundTripsEveryLengthAndRefusesBadPadding() {
        for count in 0..<8 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 97 + 250) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes, "\(count) bytes")
        }
        XCTAssertEqual(Base64.encode(Array("hi?".utf8)), "aGk/")
        XCTAssertNil(Base64.decode("aGk"))
        XCTAssertEqual(Base64.decode("aGk", requirePadding: false), Array("hi".utf8))
        XCTAssertNil(Base64.decode("a=Gk"))
    }

    /// HTTP2-Settings (RFC 7540 §3.2.1): base64url without padding; curl and others also
    /// send the standard alphabet or padding.
    func testBase64URLTakesEitherAlphabetWithOrWithoutPadding() {
        let settings: [UInt8] = [0x00, 0x03, 0x00, 0x00, 0x00, 0x64, 0x00, 0x04, 0x3F, 0xFF, 0xFB, 0xFF]
        XCTAssertEqual(Base64.decodeURL("AAMAAABkAAQ___v_"), settings)
        XCTAssertEqual(Base64.decodeURL("AAMAAABkAAQ///v/"), settings)
        XCTAssertEqual(Base64.decodeURL("AAMAAABkAAQ___v_=="), settings)
        XCTAssertEqual(Base64.decodeURL("-_"), [0xFB])
        XCTAssertEqual(Base64.decodeURL(""), [])
        XCTAssertNil(Base64.decodeURL("AAMA*ABk"))
    }
}
