import TaplineExport
import XCTest

final class EndpointNormalizerTests: XCTestCase {
    func testSegmentKinds() {
        XCTAssertEqual(PathSegmentKind.classify("42"), .number)
        XCTAssertEqual(PathSegmentKind.classify("9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f"), .uuid)
        XCTAssertEqual(PathSegmentKind.classify("01ARZ3NDEKTSV4RRFFQ69G5FAV"), .ulid)
        XCTAssertEqual(PathSegmentKind.classify("2024-01-31"), .date)
        XCTAssertEqual(PathSegmentKind.classify("ada%40example.com"), .email)
        XCTAssertEqual(PathSegmentKind.classify("5f4e3d2c1b0a99887766aabb"), .hexToken)
        XCTAssertEqual(PathSegmentKind.classify("dGhpc0lzQVRva2VuMTIzNDU2"), .token)
        for word in ["users", "v1", "order-items", "hello-world-slug", "index.html", "deadbeef"] {
            XCTAssertEqual(PathSegmentKind.classify(word), .literal, word)
        }
    }

    func testTemplatesNameVariablesFromThePreviousSegment() {
        let paths: [(origin: String, segments: [String])] = [
            ("http://a", ["users", "42", "orders", "9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f"]),
            ("http://a", ["categories", "7"]),
            ("http://a", ["reports", "2024-01-31"]),
            ("http://a", ["users", "me"]),
        ]
        let texts = EndpointNormalizer().templates(for: paths).map(\.text)
        XCTAssertEqual(texts, ["/users/:userId/orders/:orderId", "/categories/:categoryId", "/reports/:reportDate", "/users/me"])
    }

    func testHighCardinalityPositionsBecomeVariablesButApiWordsDoNot() {
        var paths: [(origin: String, segments: [String])] = (1...7).map { ("http://a", ["products", "SKU-10\($0)"]) }
        paths += ["users", "orders", "carts", "items", "health", "search", "tags"].map { ("http://a", ["api", $0]) }
        let texts = Set(EndpointNormalizer().templates(for: paths).map(\.text))
        XCTAssertTrue(texts.contains("/products/:productId"))
        XCTAssertTrue(texts.contains("/api/users") && texts.contains("/api/tags"))
    }

    func testRepeatedNamesAreNumberedAndCamelCased() {
        let template = EndpointNormalizer().templates(for: [("http://a", ["1", "2"]), ("http://a", ["order-items", "5"])])
        XCTAssertEqual(template[0].text, "/:id/:id2")
        XCTAssertEqual(template[1].text, "/order-items/:orderItemId")
        XCTAssertEqual(EndpointNormalizer.camelCase("X-API-Key"), "xApiKey")
        XCTAssertEqual(EndpointNormalizer.camelCase("accessToken"), "accessToken")
    }
}
