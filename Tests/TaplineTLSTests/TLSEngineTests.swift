import Foundation
import XCTest
@testable import TaplineTLS

final class TLSEngineTests: XCTestCase {
    private var home = ""
    private var ca: CertificateAuthority!

    override func setUpWithError() throws {
        home = try makeTemporaryDirectory(self)
        ca = try CertificateAuthority(home: home)
    }

    private func pair(host: String = "example.test", serverName: String = "example.test", clientALPN: [String] = [],
                      serverALPN: String? = nil, trustCA: Bool = true, verifyPeer: Bool = true) throws -> EnginePair {
        let client = try TLSEngine(client: TLSClientConfiguration(
            serverName: serverName, alpn: clientALPN, verifyPeer: verifyPeer,
            additionalTrustPEMFile: trustCA ? ca.certificatePath : nil))
        let server = try TLSEngine(server: TLSServerConfiguration(certificate: try ca.leafCertificate(for: host), alpn: serverALPN))
        return EnginePair(client: client, server: server)
    }

    func testHandshakeDataBothWaysAndNegotiatedParameters() throws {
        let p = try pair(clientALPN: ["h2", "http/1.1"], serverALPN: "http/1.1")
        XCTAssertEqual(p.client.state, .handshaking)
        try p.client.startHandshake()
        p.run()
        XCTAssertNil(p.clientError)
        XCTAssertNil(p.serverError)
        XCTAssertEqual(p.client.state, .established)
        XCTAssertEqual(p.server.state, .established)
        XCTAssertEqual(p.client.protocolVersion, "TLSv1.3")
        XCTAssertEqual(p.server.protocolVersion, "TLSv1.3")
        XCTAssertNotNil(p.client.cipherName)
        XCTAssertEqual(p.client.cipherName, p.server.cipherName)
        XCTAssertEqual(p.client.negotiatedALPN, "http/1.1")
        XCTAssertEqual(p.server.negotiatedALPN, "http/1.1")
        XCTAssertEqual(p.server.serverName, "example.test")

        let leaf = try ca.leafCertificate(for: "example.test")
        let peer = try XCTUnwrap(p.client.peerCertificate)
        XCTAssertEqual(peer.subject, "CN=example.test")
        XCTAssertTrue(peer.issuer.hasPrefix("O=Tapline,CN=Tapline CA ("), peer.issuer)
        XCTAssertEqual(peer.sha256Fingerprint, leaf.sha256Fingerprint)
        XCTAssertNil(p.server.peerCertificate)

        try p.client.send(plaintext: Array("GET / HTTP/1.1\r\n\r\n".utf8))
        try p.server.send(plaintext: Array("HTTP/1.1 204 No Content\r\n\r\n".utf8))
        p.run()
        XCTAssertEqual(String(decoding: p.serverReceived, as: UTF8.self), "GET / HTTP/1.1\r\n\r\n")
        XCTAssertEqual(String(decoding: p.clientReceived, as: UTF8.self), "HTTP/1.1 204 No Content\r\n\r\n")
    }

    func testPlaintextSentBeforeTheHandshakeIsQueuedInOrder() throws {
        let p = try pair()
        try p.client.send(plaintext: Array("one ".utf8))
        try p.client.send(plaintext: Array("two".utf8)[...])
        try p.server.send(plaintext: Array("hello".utf8))
        XCTAssertTrue(p.client.takeOutgoingCiphertext().isEmpty, "nothing before startHandshake")
        try p.client.startHandshake()
        XCTAssertTrue(p.client.hasOutgoingCiphertext)
        p.run()
        XCTAssertNil(p.clientError)
        XCTAssertEqual(String(decoding: p.serverReceived, as: UTF8.self), "one two")
        XCTAssertEqual(String(decoding: p.clientReceived, as: UTF8.self), "hello")
    }

    func testLargeTransfersFedInSmallChunks() throws {
        let p = try pair()
        p.chunkSize = 7
        try p.client.startHandshake()
        p.run()
        XCTAssertEqual(p.client.state, .established)
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try p.client.send(plaintext: big)
        try p.server.send(plaintext: big.reversed())
        p.chunkSize = 1000
        p.run(maxRounds: 10)
        XCTAssertEqual(p.serverReceived, big)
        XCTAssertEqual(p.clientReceived, big.reversed())
    }

    func testNoALPNWhenTheServerHasNoneOrTheClientDoesNotOfferIt() throws {
        for (offered, selected) in [(["h2", "http/1.1"], nil), (["http/1.1"], "h2"), ([], "http/1.1")] as [([String], String?)] {
            let p = try pair(clientALPN: offered, serverALPN: selected)
            try p.client.startHandshake()
            p.run()
            XCTAssertEqual(p.client.state, .established)
            XCTAssertNil(p.client.negotiatedALPN)
            XCTAssertNil(p.server.negotiatedALPN)
        }
        let p = try pair(clientALPN: ["h2", "http/1.1"], serverALPN: "h2")
        try p.client.startHandshake()
        p.run()
        XCTAssertEqual(p.client.negotiatedALPN, "h2")
    }

    func testUntrustedCAFailsVerificationAndTheServerSeesTheAlert() throws {
        let p = try pair(trustCA: false)
        try p.client.startHandshake()
        p.run()
        // The chain we present ends with the (untrusted, self-signed) Tapline CA.
        XCTAssertEqual(p.clientError, .certificateVerificationFailed("self-signed certificate in certificate chain"))
        XCTAssertEqual(p.client.state, .closed)
        guard case .handshakeFailed(let reason, let alert) = p.serverError else {
            return XCTFail("server error: \(String(describing: p.serverError))")
        }
        XCTAssertEqual(alert, "unknown ca")
        XCTAssertTrue(reason.contains("the peer sent the alert"), reason)
        XCTAssertEqual(p.server.lastAlert, TLSAlert(name: "unknown ca", sentByPeer: true, isFatal: true))
        XCTAssertEqual(p.client.lastAlert?.sentByPeer, false)
        XCTAssertThrowsError(try p.client.send(plaintext: [1]))
        XCTAssertTrue(String(describing: p.clientError!).contains("--upstream-ca"))
    }

    func testUntrustedCAIsAcceptedWithoutVerification() throws {
        let p = try pair(trustCA: false, verifyPeer: false)
        try p.client.startHandshake()
        p.run()
        XCTAssertNil(p.clientError)
        XCTAssertEqual(p.client.state, .established)
        XCTAssertEqual(p.client.peerCertificate?.subject, "CN=example.test")
    }

    func testHostnameMismatchFails() throws {
        let p = try pair(host: "other.test", serverName: "example.test")
        try p.client.startHandshake()
        p.run()
        XCTAssertEqual(p.clientError, .certificateVerificationFailed("hostname mismatch"))
        if case .handshakeFailed(_, let alert)? = p.serverError {
            XCTAssertNotNil(alert)
        } else {
            XCTFail("server error: \(String(describing: p.serverError))")
        }
    }

    func testIPLiteralLeavesVerifyWithoutSNI() throws {
        for host in ["127.0.0.1", "::1"] {
            let p = try pair(host: host, serverName: host)
            try p.client.startHandshake()
            p.run()
            XCTAssertNil(p.clientError, host)
            XCTAssertEqual(p.client.state, .established, host)
            XCTAssertNil(p.server.serverName, "no SNI is sent for an IP literal")
        }
        let wrong = try pair(host: "127.0.0.1", serverName: "127.0.0.2")
        try wrong.client.startHandshake()
        wrong.run()
        XCTAssertEqual(wrong.clientError, .certificateVerificationFailed("IP address mismatch"))
    }

    func testCloseNotifyIsSeenByThePeer() throws {
        let p = try pair()
        try p.client.startHandshake()
        p.run()
        try p.client.send(plaintext: Array("last words".utf8))
        p.client.close()
        XCTAssertEqual(p.client.state, .closed)
        XCTAssertThrowsError(try p.client.send(plaintext: [1]))
        p.run()
        XCTAssertEqual(String(decoding: p.serverReceived, as: UTF8.self), "last words")
        XCTAssertTrue(p.server.peerClosed)
        XCTAssertEqual(p.server.lastAlert?.name, "close notify")
        // Half-close: the server may still answer, then close too.
        try p.server.send(plaintext: Array("bye".utf8))
        p.server.close()
        p.run()
        XCTAssertEqual(String(decoding: p.clientReceived, as: UTF8.self), "bye")
        XCTAssertTrue(p.client.peerClosed)
        XCTAssertNil(p.clientError)
        XCTAssertNil(p.serverError)
    }

    func testGarbageFromAClientFailsTheHandshake() throws {
        let server = try TLSEngine(server: TLSServerConfiguration(certificate: try ca.leafCertificate(for: "example.test"), alpn: nil))
        XCTAssertThrowsError(try server.receive(ciphertext: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))) { error in
            guard case .handshakeFailed(let reason, _) = error as? TLSError else { return XCTFail("\(error)") }
            XCTAssertFalse(reason.isEmpty)
        }
        XCTAssertEqual(server.state, .closed)
        XCTAssertThrowsError(try server.receive(ciphertext: [0x16]))
    }

    func testCorruptRecordAfterTheHandshakeIsAProtocolError() throws {
        let p = try pair()
        try p.client.startHandshake()
        p.run()
        try p.client.send(plaintext: Array("hello".utf8))
        var record = p.client.takeOutgoingCiphertext()
        record[record.count - 1] ^= 0xff
        XCTAssertThrowsError(try p.server.receive(ciphertext: record)) { error in
            guard case .protocolError = error as? TLSError else { return XCTFail("\(error)") }
        }
    }

    func testUnreadableTrustFileIsReported() {
        XCTAssertThrowsError(try TLSEngine(client: TLSClientConfiguration(
            serverName: "example.test", additionalTrustPEMFile: home + "/missing.pem"))) { error in
            XCTAssertTrue(String(describing: error).contains("missing.pem"), "\(error)")
        }
        XCTAssertThrowsError(try TLSEngine(client: TLSClientConfiguration(serverName: "x", alpn: [""])))
    }

    func testVerificationNeedsAServerName() throws {
        XCTAssertThrowsError(try TLSEngine(client: TLSClientConfiguration(serverName: "", additionalTrustPEMFile: ca.certificatePath)))
        let p = try pair(serverName: "", verifyPeer: false)
        try p.client.startHandshake()
        p.run()
        XCTAssertEqual(p.client.state, .established)
        XCTAssertNil(p.server.serverName)
    }

    func testManyConnectionsShareContexts() throws {
        // Exercises create/handshake/free repeatedly (leaks show up under valgrind/ASan).
        let leaf = try ca.leafCertificate(for: "example.test")
        let configuration = TLSClientConfiguration(serverName: "example.test", alpn: ["http/1.1"],
                                                   additionalTrustPEMFile: ca.certificatePath)
        for _ in 0..<200 {
            let p = EnginePair(client: try TLSEngine(client: configuration),
                               server: try TLSEngine(server: TLSServerConfiguration(certificate: leaf, alpn: "http/1.1")))
            try p.client.startHandshake()
            p.run()
            XCTAssertEqual(p.server.state, .established)
        }
    }
}
