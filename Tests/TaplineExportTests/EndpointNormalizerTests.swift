import TaplineExport
import XCTest

final class EndpointNormalizerTests: XCTestCase {
    private static let item = ResponseKind(statusClass: 2, mediaType: "application/json", jsonKeys: ["id", "name", "price"])

    /// A request to `path` (`/a/b`) on `http://a` with the given response kind.
    private func request(_ path: String, _ response: ResponseKind? = item, method: String = "GET") -> ObservedRequest {
        ObservedRequest(origin: "http://a", method: method, segments: Array(path.split(separator: "/").map(String.init)),
                        response: response)
    }

    private func templates(_ requests: [ObservedRequest]) -> [String] {
        EndpointNormalizer().templates(for: requests).map(\.text)
    }

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

    func testFileNames() {
        for name in ["data.json", "favicon.ico", "big.bin", "report.tar.gz", "a%2Eb.txt", "photo.JPEG"] {
            XCTAssertTrue(PathSegmentKind.isFileName(name), name)
        }
        for name in ["redirect", "v1.2", ".env", "1.5", "red-widget", "name.", "archive.toolongext"] {
            XCTAssertFalse(PathSegmentKind.isFileName(name), name)
        }
    }

    func testResponseKindKeepsStatusClassMediaTypeAndSortedJSONKeys() {
        let kind = ResponseKind(status: 201, contentType: "Application/JSON; charset=utf-8", body: Array(#"{"b":1,"a":2,"b":3}"#.utf8))
        XCTAssertEqual(kind, ResponseKind(statusClass: 2, mediaType: "application/json", jsonKeys: ["a", "b"]))
        XCTAssertNil(ResponseKind(status: 200, contentType: "application/json", body: Array("[1]".utf8)).jsonKeys)
        XCTAssertNil(ResponseKind(status: 200, contentType: "text/plain", body: Array(#"{"a":1}"#.utf8)).jsonKeys)
        XCTAssertEqual(ResponseKind(status: 302, contentType: nil, body: []).statusClass, 3)
    }

    func testTemplatesNameVariablesFromThePreviousSegment() {
        let texts = templates([
            request("/users/42/orders/9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f"),
            request("/categories/7"),
            request("/reports/2024-01-31"),
            request("/users/me"),
        ])
        XCTAssertEqual(texts, ["/users/:userId/orders/:orderId", "/categories/:categoryId", "/reports/:reportDate", "/users/me"])
    }

    /// Issue #21, item 17, the API: six slugs answered alike are one variable, even without digits.
    func testSlugsAnsweredAlikeAreOneVariable() {
        let slugs = ["red-widget", "blue-widget", "green-widget", "black-widget", "white-widget", "tiny-gadget"]
        var requests = slugs.map { request("/api/v1/items/\($0)") }
        requests.append(request("/api/v1/items/red-widget/reviews",
                                ResponseKind(statusClass: 2, mediaType: "application/json", jsonKeys: ["reviews"])))
        requests.append(request("/api/v1/items/blue-widget", ResponseKind(statusClass: 2, mediaType: nil, jsonKeys: nil), method: "DELETE"))
        let texts = templates(requests)
        XCTAssertEqual(Set(texts.prefix(6)), ["/api/v1/items/:itemId"])
        XCTAssertEqual(texts[6], "/api/v1/items/:itemId/reviews")
        XCTAssertEqual(texts[7], "/api/v1/items/:itemId")
        XCTAssertEqual(EndpointNormalizer().templates(for: requests)[0].segments.last, .variable(name: "itemId", kind: .slug))

        // Below the threshold the slugs stay requests of their own.
        XCTAssertEqual(templates(slugs.dropLast().map { request("/api/v1/items/\($0)") }),
                       slugs.dropLast().map { "/api/v1/items/\($0)" })
    }

    /// Issue #21, item 17, the web site: distinct values at the root that lead to
    /// different kinds of response, or are file names, are never one variable.
    func testWebSiteRootStaysApart() {
        let requests = [
            request("/data.json", ResponseKind(statusClass: 2, mediaType: "application/json", jsonKeys: ["items"])),
            request("/redirect", ResponseKind(statusClass: 3, mediaType: "text/html", jsonKeys: nil)),
            request("/sse", ResponseKind(statusClass: 2, mediaType: "text/event-stream", jsonKeys: nil)),
            request("/favicon.ico", ResponseKind(statusClass: 2, mediaType: "image/x-icon", jsonKeys: nil)),
            request("/big.bin", ResponseKind(statusClass: 2, mediaType: "application/octet-stream", jsonKeys: nil)),
            request("/index.html", ResponseKind(statusClass: 2, mediaType: "text/html", jsonKeys: nil)),
            request("/robots.txt", ResponseKind(statusClass: 2, mediaType: "text/plain", jsonKeys: nil)),
            request("/api/echo", ResponseKind(statusClass: 2, mediaType: "application/json", jsonKeys: ["echo"]), method: "POST"),
        ]
        XCTAssertEqual(templates(requests), ["/data.json", "/redirect", "/sse", "/favicon.ico", "/big.bin", "/index.html",
                                             "/robots.txt", "/api/echo"])
        // Six file names answered alike are still six files.
        let files = (1...6).map { request("/report-\($0)x.pdf", ResponseKind(statusClass: 2, mediaType: "application/pdf", jsonKeys: nil)) }
        XCTAssertEqual(templates(files), (1...6).map { "/report-\($0)x.pdf" })
    }

    func testSlugsAnsweredDifferentlyOrNotAtAllAreNotMerged() {
        let other = ResponseKind(statusClass: 2, mediaType: "application/json", jsonKeys: ["id", "name"])
        let slugs = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
        let mixed = slugs.enumerated().map { request("/things/\($0.element)", $0.offset % 2 == 0 ? Self.item : other) }
        XCTAssertEqual(templates(mixed), slugs.map { "/things/\($0)" })
        let notFound = ResponseKind(statusClass: 4, mediaType: "application/json", jsonKeys: ["id", "name", "price"])
        let statuses = slugs.enumerated().map { request("/things/\($0.element)", $0.offset == 5 ? notFound : Self.item) }
        XCTAssertEqual(templates(statuses), slugs.map { "/things/\($0)" })
        XCTAssertEqual(templates(slugs.map { request("/things/\($0)", nil) }), slugs.map { "/things/\($0)" })
    }

    func testApiWordsStayLiteral() {
        let words = ["users", "orders", "carts", "items", "health", "search", "tags"]
        // Collections answer with their own keys...
        let listings = words.map { request("/api/\($0)", ResponseKind(statusClass: 2, mediaType: "application/json", jsonKeys: [$0])) }
        XCTAssertEqual(templates(listings), words.map { "/api/\($0)" })
        // ...and a word followed by an id names a collection, even when the records look alike.
        let records = words.map { request("/api/\($0)/7") }
        XCTAssertEqual(templates(records), ["/api/users/:userId", "/api/orders/:orderId", "/api/carts/:cartId", "/api/items/:itemId",
                                            "/api/health/:healthId", "/api/search/:searchId", "/api/tags/:tagId"])
    }

    func testRepeatedNamesAreNumberedAndCamelCased() {
        let template = EndpointNormalizer().templates(for: [request("/1/2"), request("/order-items/5")])
        XCTAssertEqual(template[0].text, "/:id/:id2")
        XCTAssertEqual(template[1].text, "/order-items/:orderItemId")
        XCTAssertEqual(EndpointNormalizer.camelCase("X-API-Key"), "xApiKey")
        XCTAssertEqual(EndpointNormalizer.camelCase("accessToken"), "accessToken")
    }

    /// Issue #21, item 16: a prefix every endpoint shares names no folder.
    func testFolderDepthSkipsTheSharedPrefix() {
        func template(_ path: String) -> PathTemplate {
            EndpointNormalizer().templates(for: [request(path)])[0]
        }
        let api = ["/api/v1/users/42", "/api/v1/orders/7", "/api/v1/items/red-widget", "/api/v1/users"].map(template)
        XCTAssertEqual(PostmanGrouping.folderDepth(of: api), 2)
        XCTAssertEqual(PostmanGrouping.folderDepth(of: [template("/api/v1/users/42")]), 2)
        XCTAssertEqual(PostmanGrouping.folderDepth(of: ["/api/users/1", "/graphql"].map(template)), 0)
        XCTAssertEqual(PostmanGrouping.folderDepth(of: ["/api/v1", "/api/v2/x"].map(template)), 1)
        XCTAssertEqual(PostmanGrouping.folderDepth(of: [template("/1/orders")]), 0)
        XCTAssertEqual(PostmanGrouping.folderDepth(of: []), 0)
    }
}
