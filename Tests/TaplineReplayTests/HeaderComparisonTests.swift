@testable import TaplineReplay
import TaplineWire
import XCTest

final class HeaderComparisonTests: XCTestCase {
    func testNamesAreCaseInsensitiveAndOrderIsIgnored() {
        let a = HTTPHeaders([("Content-Type", "application/json"), ("X-A", "1")])
        let b = HTTPHeaders([("x-a", "1"), ("content-type", "application/json")])
        XCTAssertEqual(HeaderComparison().differences(a, b), [])
    }

    func testRepeatedFieldsAreMultisets() {
        let a = HTTPHeaders([("Vary", "Accept"), ("Vary", "Accept"), ("Link", "<a>")])
        let b = HTTPHeaders([("Vary", "Accept"), ("Link", "<a>"), ("Link", "<b>")])
        XCTAssertEqual(HeaderComparison().differences(a, b), [
            FieldDifference(name: "link", removed: [], added: ["<b>"]),
            FieldDifference(name: "vary", removed: ["Accept"], added: []),
        ])
    }

    func testChangedAddedAndRemovedFields() {
        let a = HTTPHeaders([("Cache-Control", "no-cache"), ("X-Old", "1")])
        let b = HTTPHeaders([("Cache-Control", "max-age=60"), ("X-New", "2")])
        XCTAssertEqual(HeaderComparison().differences(a, b), [
            FieldDifference(name: "cache-control", removed: ["no-cache"], added: ["max-age=60"]),
            FieldDifference(name: "x-new", removed: [], added: ["2"]),
            FieldDifference(name: "x-old", removed: ["1"], added: []),
        ])
    }

    /// The same names in the same order (decided on the bytes): only a compared field's value can differ.
    func testSameFieldsInOrderDifferOnlyInComparedValues() {
        let a = HTTPHeaders([("Date", "Mon"), ("Content-Type", "text/plain"), ("X-Feature", "on")])
        let later = HTTPHeaders([("Date", "Tue"), ("Content-Type", "text/plain"), ("X-Feature", "on")])
        XCTAssertEqual(HeaderComparison().differences(a, later), [])
        let changed = HTTPHeaders([("Date", "Mon"), ("Content-Type", "text/plain"), ("X-Feature", "off")])
        XCTAssertEqual(HeaderComparison().differences(a, changed),
                       [FieldDifference(name: "x-feature", removed: ["on"], added: ["off"])])
        XCTAssertEqual(HeaderComparison(ignoredNames: ["x-feature"]).differences(a, changed), [])
    }

    func testDefaultIgnoredFieldsAndSetCookieValues() {
        let a = HTTPHeaders([("Date", "Mon"), ("Server", "a"), ("Content-Length", "10"), ("ETag", "\"1\""), ("Age", "1"),
                             ("X-Request-Id", "r1"), ("Set-Cookie", "sid=abc; Path=/")])
        let b = HTTPHeaders([("Date", "Tue"), ("Server", "b"), ("Content-Length", "12"), ("ETag", "\"2\""), ("Age", "9"),
                             ("X-Request-ID", "r2"), ("Set-Cookie", "sid=xyz; Path=/; HttpOnly")])
        XCTAssertEqual(HeaderComparison().differences(a, b), [])
        let renamed = HTTPHeaders([("Set-Cookie", "session=abc")])
        XCTAssertEqual(HeaderComparison().differences(a, renamed).map(\.name), ["set-cookie"])
    }

    func testIgnoreHeaderAddsToTheDefaults() {
        var comparison = HeaderComparison()
        comparison.ignoredNames.insert("x-trace")
        XCTAssertEqual(comparison.differences(HTTPHeaders([("X-Trace", "1")]), HTTPHeaders([("X-Trace", "2")])), [])
        XCTAssertEqual(HeaderComparison().differences(HTTPHeaders([("X-Trace", "1")]), HTTPHeaders([("X-Trace", "2")])).count, 1)
    }

    /// A response head as nginx sends it, twice: the second as a replay gets it, its `Date`
    /// (same length) and `ETag` (longer) different, both ignored.
    private static let recorded: [(String, String)] = [
        ("Server", "nginx/1.24.0"), ("Date", "Sun, 06 Dec 2026 12:00:00 GMT"),
        ("Content-Type", "application/octet-stream"), ("Content-Length", "1024"),
        ("Last-Modified", "Sat, 05 Dec 2026 10:00:00 GMT"), ("Connection", "keep-alive"),
        ("ETag", "\"6931a1b0-400\""), ("Accept-Ranges", "bytes"), ("X", "1"), ("Vary", "Accept-Encoding"),
    ]
    private static let replayed: [(String, String)] = recorded.map { name, value in
        switch name {
        case "Date": return (name, "Sun, 06 Dec 2026 12:34:56 GMT")
        case "ETag": return (name, "\"6931a1b0-4000\"")
        default: return (name, value)
        }
    }

    /// `fields` with byte `position` of field `index`'s name (or value) replaced by one it does not have.
    private static func changing(_ fields: [(String, String)], field index: Int, inName: Bool, at position: Int) -> HTTPHeaders {
        var changed = fields
        var bytes = Array((inName ? fields[index].0 : fields[index].1).utf8)
        bytes[position] = bytes[position] == UInt8(ascii: "~") ? UInt8(ascii: "!") : UInt8(ascii: "~")
        let text = String(decoding: bytes, as: UTF8.self)
        if inName { changed[index].0 = text } else { changed[index].1 = text }
        return HTTPHeaders(changed)
    }

    /// Lists whose fields line up are compared a word at a time: a changed byte anywhere
    /// (every offset of every name and value, after an ignored difference of the same or
    /// another length too) is found, unless it is in an ignored field's value.
    func testEveryChangedByteIsFoundUnlessInAnIgnoredValue() {
        let comparison = HeaderComparison()
        let a = HTTPHeaders(Self.recorded)
        XCTAssertEqual(comparison.differences(a, HTTPHeaders(Self.replayed)), [])
        for base in [Self.recorded, Self.replayed] {
            for (index, field) in base.enumerated() {
                let ignored = HeaderComparison.defaultIgnoredNames.contains(field.0.lowercased())
                for position in 0..<field.1.utf8.count {
                    let found = comparison.differences(a, Self.changing(base, field: index, inName: false, at: position))
                    XCTAssertEqual(found.isEmpty, ignored, "\(field.0) value byte \(position)")
                    if !ignored { XCTAssertEqual(found.map(\.name), [field.0.lowercased()]) }
                }
                for position in 0..<field.0.utf8.count {
                    let found = comparison.differences(a, Self.changing(base, field: index, inName: true, at: position))
                    XCTAssertFalse(found.isEmpty, "\(field.0) name byte \(position)")
                }
            }
        }
    }

    /// A name's case, or a value of another length, in a field that is compared is a
    /// difference only where the full comparison finds one.
    func testFieldsThatDoNotLineUp() {
        let comparison = HeaderComparison()
        let a = HTTPHeaders(Self.recorded)
        var renamed = Self.replayed
        renamed[2].0 = "content-type"
        XCTAssertEqual(comparison.differences(a, HTTPHeaders(renamed)), [])
        var longer = Self.replayed
        longer[8].1 = "12"
        XCTAssertEqual(comparison.differences(a, HTTPHeaders(longer)),
                       [FieldDifference(name: "x", removed: ["1"], added: ["12"])])
        XCTAssertEqual(comparison.differences(HTTPHeaders([("Date", "Mon")]), HTTPHeaders([("Age", "1")])).map(\.name), [])
        XCTAssertEqual(comparison.differences(HTTPHeaders([("A", "")]), HTTPHeaders([("A", "")])), [])
        XCTAssertEqual(comparison.differences(HTTPHeaders([("A", "")]), HTTPHeaders([("B", "")])).count, 2)
    }
}
