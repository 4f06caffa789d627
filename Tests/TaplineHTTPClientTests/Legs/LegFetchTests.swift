import Foundation
import TaplineFlow
@testable import TaplineHTTPClient
import TaplineNet
import TaplineTestSupport
import TaplineWire
import XCTest

/// The leg interface used by an owner that is not the proxy (`LegFetch`, as replay
/// will use it) against real servers on 127.0.0.1: nghttpd for h2 over TLS and for
/// h2c, a Python `http.server` origin for HTTP/1.1 (plain, and over TLS where ALPN
/// leaves HTTP/1.1). Each test starts the server it needs and stops it.
final class LegFetchTests: XCTestCase {
    private static let smallFile = fileBytes(count: 1024)
    private static let largeFile = fileBytes(count: 1024 * 1024)
    /// Larger than what the socket buffers and the HTTP/2 windows hold at once (1 MiB
    /// per stream), so the upload waits for `legBecameWritable` and its echo for the
    /// credit `consumed` gives back.
    private static let upload = fileBytes(count: 3 * 512 * 1024)

    /// The HTTP/1.1 origin: files from a directory for GET, POST bodies echoed back.
    /// Arguments: port, document root, and for TLS certificate and key (ALPN http/1.1).
    private static let http1Origin = """
        import functools, http.server, ssl, sys
        class Handler(http.server.SimpleHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        port, root = int(sys.argv[1]), sys.argv[2]
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=root))
        if len(sys.argv) > 3:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[3], sys.argv[4])
            context.set_alpn_protocols(["http/1.1"])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """

    private var group: EventLoopGroup!
    private var peers: [TestPeerProcess] = []
    /// The served files (`small.bin`, `large.bin`) and the servers' certificate.
    private var directory = ""
    private var certificatePath: String { directory + "/cert.pem" }
    private var keyPath: String { directory + "/key.pem" }
    private var documentRoot: String { directory + "/htdocs" }

    override func setUpWithError() throws {
        group = try EventLoopGroup(threads: 1)
        directory = NSTemporaryDirectory() + "tapline-leg-fetch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: documentRoot, withIntermediateDirectories: true)
        try Data(Self.smallFile).write(to: URL(fileURLWithPath: documentRoot + "/small.bin"))
        try Data(Self.largeFile).write(to: URL(fileURLWithPath: documentRoot + "/large.bin"))
    }

    override func tearDown() {
        for peer in peers { peer.stop() }
        peers = []
        group.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    // MARK: Downloads

    func testDownloadsOverHTTP1() throws {
        try assertDownloadsBothFiles(from: "http://127.0.0.1:\(try startHTTP1Origin())", version: .http1_1)
    }

    func testDownloadsOverH2WhenALPNChoosesIt() throws {
        try assertDownloadsBothFiles(from: "https://127.0.0.1:\(try startNghttpd(tls: true))", version: .http2)
    }

    func testDownloadsOverH2CWithPriorKnowledge() throws {
        try assertDownloadsBothFiles(from: "h2c://127.0.0.1:\(try startNghttpd(tls: false))", version: .http2)
    }

    /// https to a server whose ALPN picks http/1.1 goes through an HTTP/1.1 leg.
    func testHTTPSStaysHTTP1WhenALPNChoosesIt() throws {
        let port = try startHTTP1Origin(tls: true)
        let response = try fetch("https://127.0.0.1:\(port)/small.bin").get()
        XCTAssertEqual(response.head.version, .http1_1)
        XCTAssertEqual(response.head.status, 200)
        XCTAssertTrue(response.body == Self.smallFile)
    }

    // MARK: Uploads

    func testPostsABodyOverHTTP1() throws {
        let port = try startHTTP1Origin()
        let response = try fetch("http://127.0.0.1:\(port)/echo", method: "POST", body: Self.upload).get()
        XCTAssertEqual(response.head.status, 200)
        XCTAssertTrue(response.body == Self.upload, "echoed \(response.body.count) bytes of \(Self.upload.count)")
    }

    func testPostsABodyOverH2C() throws {
        let port = try startNghttpd(tls: false)
        let response = try fetch("h2c://127.0.0.1:\(port)/echo", method: "POST", body: Self.upload).get()
        XCTAssertEqual(response.head.headers.first(name: ":status"), "200")
        XCTAssertTrue(response.body == Self.upload, "echoed \(response.body.count) bytes of \(Self.upload.count)")
    }

    // MARK: Failures

    func testAMissingFileIsA404OverHTTP1AndH2C() throws {
        let http1 = try fetch("http://127.0.0.1:\(try startHTTP1Origin())/missing").get()
        XCTAssertEqual(http1.head.status, 404)
        let h2c = try fetch("h2c://127.0.0.1:\(try startNghttpd(tls: false))/missing").get()
        XCTAssertEqual(h2c.head.status, 404)
        XCTAssertEqual(h2c.head.headers.first(name: ":status"), "404")
    }

    func testARefusedConnectionIsAnUnreachableUpstream() throws {
        let port = try LoopbackPort.free()  // nothing listens there
        let result = try fetch("http://127.0.0.1:\(port)/")
        XCTAssertEqual(result.failure, FlowError(.upstreamUnreachable,
            "cannot connect to 127.0.0.1:\(port): connection refused by 127.0.0.1:\(port)"))
    }

    func testAnUntrustedCertificateFailsVerification() throws {
        let port = try startNghttpd(tls: true)
        let result = try fetch("https://127.0.0.1:\(port)/small.bin", trustingTheServersCertificate: false)
        XCTAssertEqual(result.failure?.kind, .upstreamTLS)
        XCTAssertTrue(result.failure?.message.hasPrefix(
            "127.0.0.1:\(port): upstream certificate verification failed: self-signed certificate") == true,
            result.failure?.message ?? "no failure")
    }

    func testAURLOfAnotherSchemeIsRefused() {
        XCTAssertThrowsError(try LegFetchRequest(url: "ftp://127.0.0.1/")) { error in
            XCTAssertEqual(error as? FlowError, FlowError(.badRequest,
                "cannot fetch \"ftp://127.0.0.1/\": it must start with http://, https:// or h2c://"))
        }
    }

    // MARK: Helpers

    /// Fetches `url` with a `LegFetch` on the test's loop and waits for its one callback.
    private func fetch(_ url: String, method: String = "GET", body: [UInt8]? = nil,
                       trustingTheServersCertificate: Bool = true) throws -> Result<LegFetchResponse, FlowError> {
        let request = try LegFetchRequest(url: url, method: method, body: body)
        var configuration = HTTPClientConfiguration()
        if trustingTheServersCertificate { configuration.additionalTrustFile = certificatePath }
        let loop = group.loops[0]
        let result = SyncResult<Result<LegFetchResponse, FlowError>>()
        loop.execute { [configuration] in
            let source = PooledUpstreamLegSource(connector: UpstreamConnector(loop: loop, configuration: configuration),
                                                 limits: HTTP1Limits(), idleMilliseconds: 1_000)
            LegFetch.start(request, source: source) { response in
                source.closeAll()
                result.set(response)
            }
        }
        return try XCTUnwrap(result.wait(seconds: 10), "no answer from \(url) in 10 s")
    }

    /// Fetches the 1 KiB and the 1 MiB file from `base` and checks what a user would:
    /// the status, the head as received (HTTP/2: its `:status` field; HTTP/1.1: its
    /// reason phrase), the stated length, and every body byte.
    private func assertDownloadsBothFiles(from base: String, version: HTTPVersion,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        for (name, bytes) in [("small.bin", Self.smallFile), ("large.bin", Self.largeFile)] {
            let response = try fetch(base + "/" + name).get()
            let (head, body) = (response.head, response.body)
            XCTAssertEqual(head.version, version, name, file: file, line: line)
            XCTAssertEqual(head.status, 200, name, file: file, line: line)
            if version == .http2 {
                XCTAssertEqual(head.headers.first(name: ":status"), "200", name, file: file, line: line)
            } else {
                XCTAssertEqual(head.reason, "OK", name, file: file, line: line)
            }
            XCTAssertEqual(head.headers.first(name: "content-length"), String(bytes.count), name, file: file, line: line)
            XCTAssertTrue(body == bytes, "\(name): \(body.count) bytes, not the file's \(bytes.count)",
                          file: file, line: line)
        }
    }

    /// nghttpd serving `documentRoot` (POSTs echoed), over TLS with ALPN h2 or as h2c.
    private func startNghttpd(tls: Bool) throws -> UInt16 {
        let nghttpd = try TestExecutable.require("nghttpd", package: "nghttp2-server")
        let port = try LoopbackPort.free()
        var arguments = ["--address=127.0.0.1", "--htdocs=" + documentRoot, "--echo-upload", String(port)]
        if tls { arguments += [keyPath, try certificate()] } else { arguments.insert("--no-tls", at: 0) }
        return try start(nghttpd, arguments, port: port)
    }

    /// The Python HTTP/1.1 origin, plain or over TLS (ALPN http/1.1).
    private func startHTTP1Origin(tls: Bool = false) throws -> UInt16 {
        let python = try TestExecutable.require("python3", package: "python3")
        let port = try LoopbackPort.free()
        var arguments = ["-c", Self.http1Origin, String(port), documentRoot]
        if tls { arguments += [try certificate(), keyPath] }
        return try start(python, arguments, port: port)
    }

    private func start(_ executable: String, _ arguments: [String], port: UInt16) throws -> UInt16 {
        let peer = try TestPeerProcess(executable, arguments, port: port)
        peers.append(peer)
        try peer.waitUntilAccepting()
        return port
    }

    /// A throwaway self-signed certificate for 127.0.0.1 (made once per test); its path.
    private func certificate() throws -> String {
        guard !FileManager.default.fileExists(atPath: certificatePath) else { return certificatePath }
        let openssl = try TestExecutable.require("openssl", package: "openssl")
        let made = try runCommand(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                            "-nodes", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                            "-days", "2", "-keyout", keyPath, "-out", certificatePath])
        XCTAssertEqual(made.status, 0, "openssl req: \(made.errorOutput)")
        return certificatePath
    }

    /// `count` bytes that do not repeat with a short period, so a misplaced chunk shows.
    private static func fileBytes(count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
    }
}

extension Result {
    /// The error, or nil for a success.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
