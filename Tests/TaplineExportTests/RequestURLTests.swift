import TaplineExport
import XCTest

/// `RequestURL(string:)`: a URL taken apart on its UTF-8 bytes, with other than ASCII
/// in its host, path and query kept whole.
final class RequestURLTests: XCTestCase {
    private func parts(_ text: String) -> [String?]? {
        RequestURL(string: text).map { [$0.scheme, $0.host, $0.port.map(String.init), $0.path, $0.rawQuery] }
    }

    func testAbsoluteURLsAreTakenApart() {
        XCTAssertEqual(parts("http://127.0.0.1:8080/f/0001.bin"), ["http", "127.0.0.1", "8080", "/f/0001.bin", nil])
        XCTAssertEqual(parts("HTTPS://User:pw@Example.COM:443/a/b?c=d&e#frag"), ["https", "example.com", nil, "/a/b", "c=d&e"])
        XCTAssertEqual(parts("http://example.com?x=1"), ["http", "example.com", nil, "/", "x=1"])
        XCTAssertEqual(parts("http://example.com/path?"), ["http", "example.com", nil, "/path", ""])
        XCTAssertEqual(parts("ws://[::1]:9000/socket#a?b"), ["ws", "[::1]", "9000", "/socket", nil])
        XCTAssertEqual(parts("git+ssh://host/repo"), ["git+ssh", "host", nil, "/repo", nil])
        XCTAssertEqual(parts("http://a@b@host:81/x/y"), ["http", "host", "81", "/x/y", nil])
    }

    func testNotAnAbsoluteURLIsNil() {
        for text in ["/f/0001.bin", "example.com:80", "://host/", "ht tp://host/", "http://", "http:///path",
                     "http://host:99999/", "http://host:port/", "http:/host/"] {
            XCTAssertNil(RequestURL(string: text), text)
        }
    }

    /// Multi-byte characters are never split, and a delimiter after them is found.
    func testNonASCIIURLsAreTakenApartOnCharacterBoundaries() {
        XCTAssertEqual(parts("http://exämple.com:8080/ü/é?q=ö#x"), ["http", "exämple.com", "8080", "/ü/é", "q=ö"])
        XCTAssertEqual(parts("http://用户@例子.测试/路径/😀?键=值"), ["http", "例子.测试", nil, "/路径/😀", "键=值"])
        XCTAssertNil(RequestURL(string: "htté://host"), "a scheme is ASCII letters, digits, +, - and . (RFC 3986)")
    }

    /// Segments split at `/` bytes for ASCII paths, by `Character` otherwise (a combining
    /// mark after a `/` makes one character with it, which splits nothing).
    func testSegmentsOfAPath() {
        let cases: [(String, [String])] = [
            ("/", []), ("", []), ("/users/42/", ["users", "42", ""]), ("/a", ["a"]), ("//", ["", ""]),
            ("/a//b", ["a", "", "b"]), ("a/b", ["a", "b"]), ("/a%2Fb/c", ["a%2Fb", "c"]), ("/ü/é", ["ü", "é"]),
            ("/a/\u{301}b/c", ["a/\u{301}b", "c"]), ("/x\r\n/y", ["x\r\n", "y"]),
        ]
        for (path, segments) in cases {
            XCTAssertEqual(RequestURL.segments(ofPath: path), segments, path)
            XCTAssertEqual(RequestURL(scheme: "http", host: "h", port: nil, path: path, rawQuery: nil).segments, segments, path)
        }
    }
}
