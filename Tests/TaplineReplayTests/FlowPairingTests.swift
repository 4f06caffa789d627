@testable import TaplineReplay
import XCTest

final class FlowPairingTests: XCTestCase {
    private func key(_ method: String, _ path: String, _ query: [String] = [], body: String = "") -> RequestKey {
        RequestKey(method: method, path: path, query: query, bodyDigest: body)
    }

    func testPairsInOrderAndReportsUnpairedOnBothSides() {
        let a = [key("GET", "/a"), key("GET", "/a"), key("POST", "/b", body: "x"), key("GET", "/only-a")]
        let b = [key("GET", "/a"), key("POST", "/b", body: "x"), key("GET", "/a"), key("GET", "/a"), key("DELETE", "/c")]
        let pairs = FlowPairing.pair(a, b)
        XCTAssertEqual(pairs, FlowPairs(pairs: [(0, 0), (1, 2), (2, 1)], unpairedA: [3], unpairedB: [3, 4]))
    }

    func testQueryIsASetAndBodyIsPartOfTheKey() {
        let a = [key("GET", "/s", ["q=1", "p=2"]), key("POST", "/b", body: "one")]
        let b = [key("POST", "/b", body: "two"), key("GET", "/s", ["p=2", "q=1", "q=1"])]
        XCTAssertEqual(FlowPairing.pair(a, b), FlowPairs(pairs: [(0, 1)], unpairedA: [1], unpairedB: [0]))
    }

    func testExactPathsPairBeforeTemplatedOnes() {
        let a = [key("GET", "/users/1"), key("GET", "/users/2")]
        let b = [key("GET", "/users/2"), key("GET", "/users/3")]
        XCTAssertEqual(FlowPairing.pair(a, b), FlowPairs(pairs: [(0, 1), (1, 0)], unpairedA: [], unpairedB: []))
        XCTAssertEqual(RequestKey.template("/users/42/orders/2024-01-31"), "/users/:number/orders/:date")
    }

    func testTemplateNamesEachVariableSegmentByItsKind() {
        XCTAssertEqual(RequestKey.template(""), "")
        XCTAssertEqual(RequestKey.template("/"), "/")
        XCTAssertEqual(RequestKey.template("/users/42/"), "/users/:number/")
        XCTAssertEqual(RequestKey.template("/u/123e4567-e89b-12d3-a456-426614174000/f/0001.bin"), "/u/:uuid/f/0001.bin")
        XCTAssertEqual(RequestKey.template("/a%40b.co//507f1f77bcf86cd799439011"), "/:email//:hexToken")
        XCTAssertEqual(RequestKey.template("/ü/42"), "/ü/:number")
    }
}
