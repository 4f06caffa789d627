import Foundation
import TaplineNet
import TaplineTLS
import XCTest
@testable import TaplineHTTPClient

/// A `TLSStream` drops no plaintext it decrypted before anyone could take it: an
/// upstream that speaks first (an h2 server's SETTINGS) is heard by the owner that
/// takes the stream over later, in order, with the peer's close after it.
final class TLSStreamHeldInputTests: XCTestCase {
    func testPlaintextReadBeforeTheOwnerTakesOverReachesItAfterResumeReading() throws {
        let home = NSTemporaryDirectory() + "tapline-proxy-tests-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        let certificate = try CertificateAuthority(home: home).leafCertificate(for: "localhost")
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let probe = TLSStreamTakeoverProbe(loop: loop, greeting: ["hello ", "world"])
        loop.execute { probe.start(presenting: certificate) }

        let outcome = probe.waitForOutcome(timeout: 5)
        XCTAssertNil(outcome.failure)
        XCTAssertEqual(String(decoding: outcome.received, as: UTF8.self), "hello world")
        XCTAssertEqual(outcome.receivedBeforeEOF, 11, "EOF comes after the held plaintext")
    }

    /// The owner closes the stream after resuming reading but before the held
    /// input's delivery runs, in the same loop phase (the socket's close is not
    /// reported yet): it hears nothing more but the close.
    func testHeldInputIsNotDeliveredAfterTheOwnerCloses() throws {
        try assertNothingDeliveredAfterTheOwner(closes: { $0.close() })
    }

    func testHeldInputIsNotDeliveredAfterTheOwnerClosesAfterFlush() throws {
        try assertNothingDeliveredAfterTheOwner(closes: { $0.closeAfterFlush() })
    }

    private func assertNothingDeliveredAfterTheOwner(closes: @escaping (TLSStream) -> Void,
                                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let home = NSTemporaryDirectory() + "tapline-proxy-tests-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        let certificate = try CertificateAuthority(home: home).leafCertificate(for: "localhost")
        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let probe = TLSStreamTakeoverProbe(loop: loop, greeting: ["hello ", "world"], closesOnTakeover: closes)
        loop.execute { probe.start(presenting: certificate) }

        let outcome = probe.waitForOutcome(timeout: 5)
        XCTAssertNil(outcome.failure, "the close must still be reported", file: file, line: line)
        XCTAssertEqual(outcome.received, [], "plaintext delivered to an owner that closed the stream", file: file, line: line)
        XCTAssertNil(outcome.receivedBeforeEOF, "EOF delivered to an owner that closed the stream", file: file, line: line)
    }
}
