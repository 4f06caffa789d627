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

    /// Names are compared a few overlapping words at a time: a name that differs from a
    /// key in any one byte (same length, same first and last byte where the change is
    /// inside) is not that key.
    func testANameDifferingFromAKeyInAnyOneByteIsNotThatKey() {
        let names = Set(CaptureLineKey.allCases.map(\.jsonName))
        for key in CaptureLineKey.allCases {
            let bytes = Array(key.jsonName.utf8)
            for position in bytes.indices {
                for replacement in [UInt8(ascii: "_"), bytes[position] ^ 0x01, bytes[position] ^ 0x40] {
                    var changed = bytes
                    changed[position] = replacement
                    let text = String(decoding: changed, as: UTF8.self)
                    let found = changed.withUnsafeBufferPointer { buffer in
                        buffer.baseAddress.flatMap { CaptureLineKey(utf8: $0, count: buffer.count) }
                    }
                    XCTAssertEqual(found, names.contains(text) ? CaptureLineKey.allCases.first { $0.jsonName == text } : nil,
                                   "\(key.jsonName) with byte \(position) changed: \(text)")
                }
            }
        }
    }

    /// Strings of every length up to 24 that share their length and first and last byte
    /// (the same slot) and differ in one byte only are told apart, at every position.
    func testAByteStringTableTellsApartStringsDifferingInOneInnerByte() {
        for length in 1...24 {
            let base = Array(repeating: UInt8(ascii: "m"), count: length)
            var list = [base]
            for position in base.indices.dropFirst().dropLast() {
                var changed = base
                changed[position] = UInt8(ascii: "n")
                list.append(changed)
            }
            let table = CaptureByteStringTable(list.map { String(decoding: $0, as: UTF8.self) })
            for (position, entry) in list.enumerated() {
                let found = entry.withUnsafeBufferPointer { buffer in
                    buffer.baseAddress.flatMap { table.index(of: $0, count: buffer.count) }
                }
                XCTAssertEqual(found, position, "length \(length), entry \(position)")
            }
            var other = base
            other[length / 2] = UInt8(ascii: "o")
            let found = other.withUnsafeBufferPointer { buffer in
                buffer.baseAddress.flatMap { table.index(of: $0, count: buffer.count) }
            }
            XCTAssertNil(found, "length \(length)")
        }
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
