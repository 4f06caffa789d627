import XCTest
@testable import TaplineCapture

/// The names the direct line reader matches on their bytes: every key and event type is
/// found for exactly its own spelling.
final class CaptureLineKeyTests: XCTestCase {
    private func key(_ text: String) -> CaptureLineKey? {
        Array(text.utf8).withUnsafeBufferPointer { buffer in
            buffer.baseAddress.flatMap { CaptureLineKey(utf8: $0, count: buffer.count) }
        }
    }

    private func eventType(_ text: String) -> CaptureEventType? {
        Array(text.utf8).withUnsafeBufferPointer { buffer in
            buffer.baseAddress.flatMap { CaptureEventType(utf8: $0, count: buffer.count) }
        }
    }

    func testEveryKeyIsFoundByItsName() {
        XCTAssertEqual(Set(CaptureLineKey.allCases.map(\.jsonName)).count, CaptureLineKey.count)
        for (position, key) in CaptureLineKey.allCases.enumerated() {
            XCTAssertEqual(Int(key.rawValue), position)
            XCTAssertEqual(self.key(key.jsonName), key)
            XCTAssertNil(self.key(key.jsonName + "s"))
            XCTAssertNil(self.key(key.jsonName.uppercased()))
            XCTAssertNil(self.key(String(key.jsonName.dropLast()) + "_"))
        }
        for other in ["", "x", "Type", "flow ", "bytesFromClients", String(repeating: "t", count: 100)] {
            XCTAssertNil(key(other), other)
        }
    }

    func testEveryEventTypeIsFoundByItsName() {
        for type in CaptureEventType.allCases {
            XCTAssertEqual(eventType(type.rawValue), type)
            XCTAssertNil(eventType(String(type.rawValue.dropFirst())))
            XCTAssertNil(eventType(type.rawValue + "x"))
        }
        XCTAssertEqual(eventType("writer-error"), .writerError)
        XCTAssertNil(eventType("writerError"))
    }

    func testAByteStringTableGivesTheFirstOfEqualEntries() {
        let table = CaptureByteStringTable(["ab", "b", "ab", "ba"])
        let lookUp = { (text: String) in
            Array(text.utf8).withUnsafeBufferPointer { buffer in
                buffer.baseAddress.flatMap { table.index(of: $0, count: buffer.count) }
            }
        }
        XCTAssertEqual(lookUp("ab"), 0)
        XCTAssertEqual(lookUp("b"), 1)
        XCTAssertEqual(lookUp("ba"), 3)
        XCTAssertNil(lookUp("a"))
        XCTAssertNil(lookUp("abc"))
    }
}
