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
}
