import Foundation
import XCTest
@testable import TaplineTLS
import TaplineTestSupport

/// `LeafCertificate(certificateFile:keyFile:)`: the `--cert`/`--key` pair of the
/// reverse-mode TLS listener, made with the openssl command line tool.
final class LeafCertificateFileTests: XCTestCase {
    private var directory = ""
    private var openssl = ""

    override func setUpWithError() throws {
        openssl = try opensslPath()
        directory = try makeTemporaryDirectory(self)
    }

    /// A self-signed certificate for localhost and its unencrypted key, made by `openssl req`.
    private func makePair(_ name: String, key: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                          days: Int = 30) throws -> (certificate: String, key: String) {
        let certificate = "\(directory)/\(name)-cert.pem", keyFile = "\(directory)/\(name)-key.pem"
        let result = try runCommand(openssl, ["req", "-x509"] + key + [
            "-nodes", "-keyout", keyFile, "-out", certificate, "-days", String(days),
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        XCTAssertEqual(result.status, 0, result.errorOutput)
        return (certificate, keyFile)
    }

    private func loadError(_ certificate: String, _ key: String,
                           file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try LeafCertificate(certificateFile: certificate, keyFile: key)
            XCTFail("loading \(certificate) with \(key) succeeded", file: file, line: line)
            return ""
        } catch {
            guard case .certificateFile(let message) = error else {
                XCTFail("not a certificateFile error: \(error)", file: file, line: line)
                return ""
            }
            return message
        }
    }

    func testECPairIsServedWithALPNAndVerifiesAgainstItself() throws {
        let files = try makePair("ec")
        let leaf = try LeafCertificate(certificateFile: files.certificate, keyFile: files.key)
        XCTAssertNil(leaf.host)
        XCTAssertEqual(leaf.subject, "CN=localhost")
        XCTAssertNil(leaf.validityProblem())
        let pem = try String(contentsOfFile: files.certificate, encoding: .utf8)
        XCTAssertEqual(leaf.certificatePEM, pem)

        let client = try TLSEngine(client: TLSClientConfiguration(
            serverName: "localhost", alpn: ["h2", "http/1.1"], verifyPeer: true, additionalTrustPEMFile: files.certificate))
        let server = try TLSEngine(server: TLSServerConfiguration(certificate: leaf, alpn: "h2"))
        let pair = EnginePair(client: client, server: server)
        try pair.client.startHandshake()
        pair.run()
        XCTAssertNil(pair.clientError)
        XCTAssertNil(pair.serverError)
        XCTAssertEqual(pair.client.negotiatedALPN, "h2")
        XCTAssertEqual(pair.client.peerCertificate?.sha256Fingerprint, leaf.sha256Fingerprint)
    }

    func testRSAPairAndACombinedFileLoad() throws {
        let files = try makePair("rsa", key: ["-newkey", "rsa:2048"])
        XCTAssertEqual(try LeafCertificate(certificateFile: files.certificate, keyFile: files.key).subject, "CN=localhost")
        // One file holding the key and the certificate serves as both.
        let combined = "\(directory)/combined.pem"
        let text = try String(contentsOfFile: files.key, encoding: .utf8) + String(contentsOfFile: files.certificate, encoding: .utf8)
        try text.write(toFile: combined, atomically: true, encoding: .utf8)
        XCTAssertEqual(try LeafCertificate(certificateFile: combined, keyFile: combined).subject, "CN=localhost")
    }

    func testMismatchedPairNamesBothFiles() throws {
        let first = try makePair("first"), second = try makePair("second")
        let message = loadError(first.certificate, second.key)
        XCTAssertTrue(message.contains("the key in \(second.key) does not match the certificate in \(first.certificate)"), message)
    }

    func testUnreadableAndNonPEMFilesAreNamed() throws {
        let files = try makePair("ok")
        let missing = "\(directory)/missing.pem"
        var message = loadError(missing, files.key)
        XCTAssertTrue(message.contains("cannot read \(missing): No such file or directory"), message)
        message = loadError(files.certificate, directory)
        XCTAssertTrue(message.contains("cannot read \(directory): Is a directory"), message)

        let garbage = "\(directory)/garbage.pem"
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        message = loadError(garbage, files.key)
        XCTAssertTrue(message.contains("\(garbage) holds no PEM certificate"), message)
        // A certificate where the key belongs (the arguments swapped).
        message = loadError(files.key, files.certificate)
        XCTAssertTrue(message.contains("\(files.key) holds no PEM certificate"), message)
        message = loadError(files.certificate, files.certificate)
        XCTAssertTrue(message.contains("\(files.certificate) holds no PEM private key"), message)
    }

    func testEncryptedKeyIsRefusedWithoutPrompting() throws {
        let files = try makePair("plain")
        let encrypted = "\(directory)/encrypted-key.pem"
        let result = try runCommand(openssl, ["pkey", "-in", files.key, "-out", encrypted, "-aes256", "-passout", "pass:secret"])
        XCTAssertEqual(result.status, 0, result.errorOutput)
        let message = loadError(files.certificate, encrypted)
        XCTAssertTrue(message.contains("\(encrypted) holds an encrypted private key"), message)
    }

    func testValidityProblemOutsideTheValidityPeriod() throws {
        let files = try makePair("dated", days: 1)
        let leaf = try LeafCertificate(certificateFile: files.certificate, keyFile: files.key)
        let now = time(nil)
        XCTAssertNil(leaf.validityProblem(at: now))
        let later = try XCTUnwrap(leaf.validityProblem(at: now + 3 * 86_400))
        XCTAssertTrue(later.hasPrefix("expired on "), later)
        let earlier = try XCTUnwrap(leaf.validityProblem(at: now - 3 * 86_400))
        XCTAssertTrue(earlier.hasPrefix("not valid before "), earlier)
    }
}
