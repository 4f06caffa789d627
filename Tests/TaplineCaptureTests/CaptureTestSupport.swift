import Foundation
import XCTest
import TaplineFlow
import TaplineWire
@testable import TaplineCapture
import TaplineTestSupport

/// Helpers shared by the capture tests: scratch directories, a synthetic
/// session with interleaved flows, and file inspection.
enum CaptureTestSupport {
    /// A new empty directory under the system temp dir.
    static func makeTemporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "tapline-capture-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Where `makeDiskDirectory` looks, in order: `$TAPLINE_TEST_DISK_DIR`, the
    /// system temp dir, /var/tmp, and this checkout's `.build` (on the disk the
    /// project is built on).
    static var diskDirectoryCandidates: [String] {
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        var candidates = [NSTemporaryDirectory(), "/var/tmp", checkout + "/.build"]
        if let chosen = ProcessInfo.processInfo.environment["TAPLINE_TEST_DISK_DIR"], !chosen.isEmpty {
            candidates.insert(chosen, at: 0)
        }
        return candidates
    }

    /// A new empty directory on a disk-backed file system that does direct I/O
    /// (not tmpfs: there the page cache is the file), for the tests of the
    /// direct-I/O and page-release paths, which the capture takes on real disks.
    ///
    /// When no candidate qualifies the test is skipped, except in CI (`CI` set),
    /// where it fails instead: a CI whose temp dir is tmpfs must not pass these
    /// tests without ever running them (set TAPLINE_TEST_DISK_DIR there).
    static func makeDiskDirectory() throws -> String {
        var rejected: [String] = []
        for candidate in diskDirectoryCandidates {
            let base = candidate.hasSuffix("/") ? String(candidate.dropLast()) : candidate
            let path = base + "/tapline-capture-tests-" + UUID().uuidString
            guard (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil else {
                rejected.append("\(base): cannot create a directory")
                continue
            }
            let fileSystem = fileSystemType(of: path)
            if ["tmpfs", "ramfs"].contains(fileSystem) {
                rejected.append("\(base): \(fileSystem)")
            } else if doesDirectIO(path) {
                return path
            } else {
                rejected.append("\(base): \(fileSystem) without direct I/O")
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        throw MissingTestEnvironment.skipOrFail("no disk-backed directory with direct I/O (\(rejected.joined(separator: "; "))); set TAPLINE_TEST_DISK_DIR to one")
    }

    /// Mounts a tmpfs of `size` (mount(8) syntax: "3m") on a new directory and
    /// returns it, for a disk that really fills up (ENOSPC, shared by every file on
    /// it). Needs root, and direct I/O on tmpfs (Linux 6.6+); otherwise see
    /// `MissingTestEnvironment.skipOrFail`. `unmountSmallDisk` removes it.
    static func mountSmallDisk(size: String) throws -> String {
        let path = try makeTemporaryDirectory()
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", path]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw MissingTestEnvironment.skipOrFail("cannot mount a small tmpfs on \(path) (root needed)")
        }
        guard doesDirectIO(path) else {
            unmountSmallDisk(path)
            throw MissingTestEnvironment.skipOrFail("tmpfs does not do direct I/O here (Linux 6.6+ needed)")
        }
        return path
    }

    static func unmountSmallDisk(_ path: String) {
        let unmount = Process()
        unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
        unmount.arguments = [path]
        if (try? unmount.run()) != nil { unmount.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Whether a file in `directory` opens for direct I/O (as `CaptureFile.create` tries).
    private static func doesDirectIO(_ directory: String) -> Bool {
        let queue = DirectWriteQueue()
        defer { queue.stop() }
        guard let file = try? CaptureFile.create(directory + "/direct-io-probe", directIO: queue) else { return false }
        defer {
            file.close()
            unlink(directory + "/direct-io-probe")
        }
        return file.writesDirectly
    }

    /// Encodes flow `flow` (at `t(flow)`, connection 1): `GET /<flow>` started and
    /// answered 200 with a `chunk(seed: flow, ...)` body of `responseBodySize`
    /// bytes, not yet ended.
    static func encodeGET(flow: Int, responseBodySize: Int, into encoder: inout CaptureEventEncoder) {
        let id = FlowID(UInt64(flow))
        let time = t(Int64(flow))
        encoder.encode(.flowStarted(flow: id, connection: ConnectionID(1), kind: .http, scheme: "http",
                                    authority: "h:80", time: time))
        encoder.encode(.requestHead(flow: id, head: HTTPRequestHead(method: "GET", target: "/\(flow)"), time: time))
        encoder.encode(.responseHead(flow: id, head: HTTPResponseHead(status: 200), time: time))
        encoder.encodeBody(flow: id, isRequest: false, bytes: chunk(seed: flow, index: 0, size: responseBodySize)[...], now: time)
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return info.st_mode & 0o777
    }

    static func t(_ micros: Int64) -> Timestamp { Timestamp(microseconds: 1_790_000_000_000_000 + micros) }

    /// Deterministic bytes (all 256 values) for body chunk `index` of a given seed.
    static func chunk(seed: Int, index: Int, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &* 7 &+ seed) }
    }

    static func sha256(ofFile path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    /// What the synthetic session contains, for assertions.
    struct Expected {
        var requestBody1: [UInt8] = []
        var responseBody1: [UInt8] = []
        var responseBody2: [UInt8] = []
        var requestHead1: HTTPRequestHead
        var interim1: HTTPResponseHead
        var responseHead1: HTTPResponseHead
        var requestTrailers1: HTTPHeaders
        var responseTrailers1: HTTPHeaders
        var timings1: FlowTimings
        var clientTLS: TLSDetails
        var upstreamTLS: TLSDetails
        var abortError: FlowError
    }

    /// Records a session with four flows on two connections:
    /// 1 https POST with a chunked request body in 40 chunks, trailers both ways,
    ///   an interim 100 Continue and TLS on both legs; its body chunks interleave with
    /// 2 an http GET whose 30-chunk response body interleaves with flow 1's;
    /// 3 a flow that fails (upstream unreachable);
    /// 4 a CONNECT tunnel relayed without interception.
    static func recordSyntheticSession(into writer: CaptureWriter) -> Expected {
        let clientTLS = TLSDetails(version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", serverName: "api.example.com", alpn: "http/1.1")
        let upstreamTLS = TLSDetails(version: "TLSv1.2", cipher: "ECDHE-RSA-AES128-GCM-SHA256", serverName: "api.example.com",
                                     alpn: "http/1.1",
                                     peerCertificate: CertificateSummary(subject: "CN=api.example.com,O=Example \"Inc\"",
                                                                         issuer: "CN=Example CA", sha256Fingerprint: String(repeating: "ab", count: 32)))
        let requestHead1 = HTTPRequestHead(method: "POST", target: "/v1/upload?name=a%20b&x=1", version: .http1_1, headers: HTTPHeaders([
            ("Host", "api.example.com"), ("transfer-encoding", "chunked"), ("Expect", "100-continue"),
            ("X-Weird-CASE", "quote \" backslash \\ tab \t unicode é ✓"), ("x-weird-case", "second"), ("Content-Type", "application/json"),
        ]))
        let interim = HTTPResponseHead(version: .http1_1, status: 100, reason: "Continue")
        let responseHead1 = HTTPResponseHead(version: .http1_1, status: 201, reason: "Created", headers: HTTPHeaders([
            ("Content-Type", "application/json; charset=utf-8"), ("Transfer-Encoding", "chunked"), ("Trailer", "X-Digest"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
        ]))
        let requestTrailers = HTTPHeaders([("X-Checksum", "c0ffee")])
        let responseTrailers = HTTPHeaders([("X-Digest", "sha-256=abc"), ("grpc-status", "0")])
        var timings = FlowTimings()
        timings.requestStart = t(100); timings.dnsStart = t(110); timings.dnsEnd = t(120)
        timings.connectStart = t(120); timings.connectEnd = t(300); timings.tlsStart = t(300); timings.tlsEnd = t(900)
        timings.requestSent = t(5_000); timings.firstResponseByte = t(7_000); timings.done = t(12_345)
        let abortError = FlowError(.upstreamUnreachable, "connect to 10.0.0.9:80 failed: Connection refused")
        var expected = Expected(requestHead1: requestHead1, interim1: interim, responseHead1: responseHead1,
                                requestTrailers1: requestTrailers, responseTrailers1: responseTrailers, timings1: timings,
                                clientTLS: clientTLS, upstreamTLS: upstreamTLS, abortError: abortError)

        let f1 = FlowID(1), f2 = FlowID(2), f3 = FlowID(3), f4 = FlowID(4)
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:50001", listener: "127.0.0.1:8080", time: t(0)))
        writer.record(.connectionTLS(connection: ConnectionID(1), tls: clientTLS, time: t(50)))
        writer.record(.connectionOpened(connection: ConnectionID(2), client: "[::1]:50002", listener: "127.0.0.1:8080", time: t(60)))
        writer.record(.flowStarted(flow: f1, connection: ConnectionID(1), kind: .http, scheme: "https", authority: "api.example.com:443", time: t(90)))
        writer.record(.requestHead(flow: f1, head: requestHead1, time: t(100)))
        writer.record(.upstreamConnected(flow: f1, server: "93.184.216.34:443", tls: upstreamTLS, reused: false, time: t(900)))
        writer.record(.responseHead(flow: f1, head: interim, time: t(950)))
        writer.record(.flowStarted(flow: f2, connection: ConnectionID(2), kind: .http, scheme: "http", authority: "plain.example:80", time: t(1_000)))
        writer.record(.requestHead(flow: f2, head: HTTPRequestHead(method: "GET", target: "/hello", headers: HTTPHeaders([("Host", "plain.example")])), time: t(1_001)))
        writer.record(.requestEnd(flow: f2, trailers: nil, bodyBytes: 0, time: t(1_002)))
        writer.record(.upstreamConnected(flow: f2, server: "10.1.2.3:80", tls: nil, reused: true, time: t(1_003)))
        writer.record(.responseHead(flow: f2, head: HTTPResponseHead(status: 200, reason: "OK", headers: HTTPHeaders([("Content-Type", "text/plain")])), time: t(1_500)))
        for index in 0..<40 {
            let bytes = chunk(seed: 1, index: index, size: 1 + index * 97)
            expected.requestBody1 += bytes
            writer.record(.requestBody(flow: f1, bytes: bytes))
            if index < 30 {
                let other = chunk(seed: 2, index: index, size: 10 + index)
                expected.responseBody2 += other
                writer.record(.responseBody(flow: f2, bytes: other))
            }
        }
        writer.record(.requestEnd(flow: f1, trailers: requestTrailers, bodyBytes: UInt64(expected.requestBody1.count), time: t(5_000)))
        writer.record(.responseEnd(flow: f2, trailers: nil, bodyBytes: UInt64(expected.responseBody2.count), time: t(5_100)))
        var timings2 = FlowTimings(); timings2.requestStart = t(1_001); timings2.done = t(5_100)
        writer.record(.flowEnded(flow: f2, timings: timings2, bytesFromClient: 40, bytesFromServer: 600, error: nil, time: t(5_100)))
        writer.record(.flowStarted(flow: f3, connection: ConnectionID(2), kind: .http, scheme: "http", authority: "down.example:80", time: t(5_200)))
        writer.record(.requestHead(flow: f3, head: HTTPRequestHead(method: "DELETE", target: "/x", headers: HTTPHeaders([("Host", "down.example")])), time: t(5_201)))
        writer.record(.requestEnd(flow: f3, trailers: nil, bodyBytes: 0, time: t(5_202)))
        var timings3 = FlowTimings(); timings3.requestStart = t(5_201); timings3.connectStart = t(5_203); timings3.done = t(6_000)
        writer.record(.flowEnded(flow: f3, timings: timings3, bytesFromClient: 30, bytesFromServer: 0, error: abortError, time: t(6_000)))
        writer.record(.responseHead(flow: f1, head: responseHead1, time: t(7_000)))
        for index in 0..<25 {
            let bytes = chunk(seed: 3, index: index, size: 4096 + index)
            expected.responseBody1 += bytes
            writer.record(.responseBody(flow: f1, bytes: bytes))
        }
        writer.record(.responseEnd(flow: f1, trailers: responseTrailers, bodyBytes: UInt64(expected.responseBody1.count), time: t(12_000)))
        writer.record(.flowEnded(flow: f1, timings: timings, bytesFromClient: 9_000, bytesFromServer: 110_000, error: nil, time: t(12_345)))
        writer.record(.flowStarted(flow: f4, connection: ConnectionID(2), kind: .tunnel, scheme: "tcp", authority: "pinned.example:443", time: t(13_000)))
        writer.record(.flowEnded(flow: f4, timings: FlowTimings(), bytesFromClient: 1_234, bytesFromServer: 5_678, error: nil, time: t(20_000)))
        writer.record(.connectionClosed(connection: ConnectionID(1), time: t(21_000), bytesReceived: 9_500, bytesSent: 111_000, error: nil))
        writer.record(.connectionClosed(connection: ConnectionID(2), time: t(21_001), bytesReceived: 1_300, bytesSent: 6_300,
                                        error: FlowError(.clientAborted, "reset by peer")))
        return expected
    }

    /// Writes and closes a synthetic session under `root`; returns its directory.
    /// With `asOneBatch` the writer thread is held while recording, so it takes everything as one batch.
    static func makeSyntheticSession(root: String, options: CaptureOptions = CaptureOptions(),
                                     asOneBatch: Bool = false) throws -> (String, Expected) {
        let writer = try CaptureWriter(root: root, options: options)
        if asOneBatch { writer.holdWriterForTesting(true) }
        let expected = recordSyntheticSession(into: writer)
        if asOneBatch { writer.holdWriterForTesting(false) }
        writer.close()
        return (writer.directory, expected)
    }

    static func lines(of path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func writeLines(_ lines: [String], to path: String) throws {
        try lines.joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// The type of the file system `path` is on (longest matching mount point in /proc/mounts).
    static func fileSystemType(of path: String) -> String {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        var best = (point: "", type: "unknown")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = String(fields[1])
            let prefix = point.hasSuffix("/") ? point : point + "/"
            if (path == point || path.hasPrefix(prefix)) && point.count > best.point.count {
                best = (point, String(fields[2]))
            }
        }
        return best.type
    }

    /// Which pages of the first `length` bytes of `path` are in the page cache (mincore).
    static func residentPages(of path: String, length: Int) throws -> [Bool] {
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        guard let mapping = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
            throw XCTSkip("mmap failed: \(String(cString: strerror(errno)))")
        }
        defer { munmap(mapping, length) }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        var vector = [UInt8](repeating: 0, count: (length + pageSize - 1) / pageSize)
        XCTAssertEqual(mincore(mapping, length, &vector), 0)
        return vector.map { $0 & 1 != 0 }
    }
}
