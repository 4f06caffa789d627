import Foundation
import Glibc
import XCTest
@testable import TaplineTLS
import TaplineTestSupport

final class CertificateAuthorityTests: XCTestCase {
    func testCreatesPrivateFilesAndReloadsTheSameCA() throws {
        let home = try makeTemporaryDirectory(self) + "/nested/home"
        let ca = try CertificateAuthority(home: home)
        XCTAssertEqual(permissions(of: home), 0o700)
        XCTAssertEqual(permissions(of: ca.privateKeyPath), 0o600)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ca.certificatePath))
        XCTAssertTrue(ca.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        XCTAssertEqual(ca.sha256Fingerprint.count, 64)
        XCTAssertTrue(ca.sha256Fingerprint.allSatisfy { "0123456789abcdef".contains($0) })
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])

        let reloaded = try CertificateAuthority(home: home)
        XCTAssertEqual(reloaded.sha256Fingerprint, ca.sha256Fingerprint)
        XCTAssertEqual(reloaded.certificatePEM, ca.certificatePEM)
    }

    func testRegenerateReplacesTheCA() throws {
        let home = try makeTemporaryDirectory(self)
        let first = try CertificateAuthority(home: home)
        let second = try CertificateAuthority.regenerate(home: home)
        XCTAssertNotEqual(first.sha256Fingerprint, second.sha256Fingerprint)
        XCTAssertEqual(permissions(of: second.privateKeyPath), 0o600)
        XCTAssertEqual(try CertificateAuthority(home: home).sha256Fingerprint, second.sha256Fingerprint)
    }

    /// Processes started together on an empty home (threads here: the lock is per
    /// open file, so it orders them too) all end up with the one pair on disk.
    func testConcurrentCreationYieldsOnePairThatIsOnDisk() throws {
        for _ in 0..<5 {
            let home = try makeTemporaryDirectory(self) + "/home"
            let fingerprints = LockedList<String>()
            let failures = FailureCounter()
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                do {
                    fingerprints.append(try CertificateAuthority(home: home).sha256Fingerprint)
                } catch {
                    failures.increment()
                }
            }
            XCTAssertEqual(failures.value, 0)
            let onDisk = try CertificateAuthority(home: home).sha256Fingerprint  // also checks the pair matches
            XCTAssertEqual(fingerprints.values, Array(repeating: onDisk, count: 8))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: home).filter { $0.contains(".tmp-") }
            XCTAssertEqual(leftovers, [])
        }
    }

    /// A regeneration racing loads: every load gets a pair that belongs together.
    func testRegenerationRacingLoadsNeverYieldsAMismatchedPair() throws {
        let home = try makeTemporaryDirectory(self)
        _ = try CertificateAuthority(home: home)
        let failures = FailureCounter()
        DispatchQueue.concurrentPerform(iterations: 24) { index in
            do {
                if index % 3 == 0 {
                    _ = try CertificateAuthority.regenerate(home: home)
                } else {
                    _ = try CertificateAuthority(home: home)
                }
            } catch {
                failures.increment()
            }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertNoThrow(try CertificateAuthority(home: home))
    }

    func testCorruptCertificateGivesAnActionableError() throws {
        let home = try makeTemporaryDirectory(self)
        _ = try CertificateAuthority(home: home)
        try "not a certificate".write(toFile: home + "/ca.pem", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CertificateAuthority(home: home)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains(home + "/ca.pem is not a valid PEM certificate"), message)
            XCTAssertTrue(message.contains("tapline ca --regenerate"), message)
        }
    }

    func testCorruptKeyGivesAnActionableError() throws {
        let home = try makeTemporaryDirectory(self)
        _ = try CertificateAuthority(home: home)
        try "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n".write(toFile: home + "/ca-key.pem", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CertificateAuthority(home: home)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains(home + "/ca-key.pem is not a valid PEM key"), message)
            XCTAssertTrue(message.contains("tapline ca --regenerate"), message)
        }
    }

    func testMismatchedOrMissingKeyIsReported() throws {
        let home = try makeTemporaryDirectory(self), other = try makeTemporaryDirectory(self)
        _ = try CertificateAuthority(home: home)
        _ = try CertificateAuthority(home: other)
        try FileManager.default.removeItem(atPath: home + "/ca-key.pem")
        XCTAssertThrowsError(try CertificateAuthority(home: home)) { error in
            XCTAssertTrue(String(describing: error).contains("ca-key.pem is missing"), String(describing: error))
        }
        try FileManager.default.copyItem(atPath: other + "/ca-key.pem", toPath: home + "/ca-key.pem")
        XCTAssertThrowsError(try CertificateAuthority(home: home)) { error in
            XCTAssertTrue(String(describing: error).contains("is not the key of"), String(describing: error))
        }
        // regenerate repairs it.
        XCTAssertNoThrow(try CertificateAuthority.regenerate(home: home))
        XCTAssertNoThrow(try CertificateAuthority(home: home))
    }

    /// The certificate's rename fails after the new key's succeeded (`ca.pem` is a
    /// non-empty directory, so rename(2) refuses): the previous key is put back,
    /// the error says what failed, and once `ca.pem` is restored the old pair loads.
    func testFailedCertificateRenameKeepsThePreviousKey() throws {
        let home = try makeTemporaryDirectory(self)
        let first = try CertificateAuthority(home: home)
        let previousKey = try Data(contentsOf: URL(fileURLWithPath: first.privateKeyPath))
        try FileManager.default.removeItem(atPath: first.certificatePath)
        try FileManager.default.createDirectory(atPath: first.certificatePath + "/in-the-way", withIntermediateDirectories: true)

        XCTAssertThrowsError(try CertificateAuthority.regenerate(home: home)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("cannot write \(first.certificatePath): Is a directory"), message)
            XCTAssertTrue(message.contains("the previous CA files were kept"), message)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: first.privateKeyPath)), previousKey,
                       "the new key must not stay beside the old certificate")
        XCTAssertEqual(permissions(of: first.privateKeyPath), 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home).filter { $0.contains(".tmp-") || $0.contains(".previous-") }
        XCTAssertEqual(leftovers, [])

        try FileManager.default.removeItem(atPath: first.certificatePath)
        try first.certificatePEM.write(toFile: first.certificatePath, atomically: false, encoding: .utf8)
        XCTAssertEqual(try CertificateAuthority(home: home).sha256Fingerprint, first.sha256Fingerprint)
    }

    func testDefaultHomeFollowsTaplineHome() {
        let saved = getenv("TAPLINE_HOME").map { String(cString: $0) }
        defer { if let saved { setenv("TAPLINE_HOME", saved, 1) } else { unsetenv("TAPLINE_HOME") } }
        setenv("TAPLINE_HOME", "/tmp/somewhere-else", 1)
        XCTAssertEqual(CertificateAuthority.defaultHome, "/tmp/somewhere-else")
        unsetenv("TAPLINE_HOME")
        XCTAssertTrue(CertificateAuthority.defaultHome.hasSuffix("/.tapline"))
    }

    func testLeavesAreCachedPerNormalizedHostAndBadNamesRejected() throws {
        let ca = try CertificateAuthority(home: try makeTemporaryDirectory(self))
        let a = try ca.leafCertificate(for: "Example.TEST")
        XCTAssertEqual(a.host, "example.test")
        XCTAssertTrue(a === (try ca.leafCertificate(for: "example.test.")))
        XCTAssertFalse(a === (try ca.leafCertificate(for: "other.test")))
        XCTAssertEqual(try ca.leafCertificate(for: "[::1]").host, "::1")
        XCTAssertEqual(ca.cachedLeafCount, 3)
        for bad in ["", "a,b", "a b", "x.test,DNS:evil.test", "a..b", "-\u{0}-", "café.test", "*"] {
            XCTAssertThrowsError(try ca.leafCertificate(for: bad), "accepted \(bad)")
        }
    }

    func testLeafCacheStaysBounded() throws {
        let ca = try CertificateAuthority(home: try makeTemporaryDirectory(self))
        let count = CertificateAuthority.leafCacheLimit / 2 + 10
        for index in 0..<count { _ = try ca.leafCertificate(for: "h\(index).test") }
        XCTAssertLessThanOrEqual(ca.cachedLeafCount, CertificateAuthority.leafCacheLimit)
        XCTAssertEqual(ca.cachedLeafCount, count)
    }

    func testMintingFromManyThreads() throws {
        let ca = try CertificateAuthority(home: try makeTemporaryDirectory(self))
        let failures = FailureCounter()
        DispatchQueue.concurrentPerform(iterations: 200) { index in
            do {
                let leaf = try ca.leafCertificate(for: "host\(index % 20).test")
                if leaf.host != "host\(index % 20).test" { failures.increment() }
            } catch {
                failures.increment()
            }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(ca.cachedLeafCount, 20)
    }

    // MARK: Checked by the openssl command (an independent implementation)

    func testOpenSSLAcceptsTheCAAndItsLeaves() throws {
        let openssl = try opensslPath()
        let home = try makeTemporaryDirectory(self)
        let ca = try CertificateAuthority(home: home)

        let caText = try runCommand(openssl, ["x509", "-in", ca.certificatePath, "-noout", "-text"]).output
        XCTAssertTrue(caText.contains("CA:TRUE, pathlen:0"), caText)
        XCTAssertTrue(caText.contains("Certificate Sign, CRL Sign"), caText)
        XCTAssertTrue(caText.contains("Subject: CN = Tapline CA ("), caText)
        XCTAssertTrue(caText.contains("O = Tapline"), caText)
        XCTAssertTrue(caText.contains("Subject Key Identifier"), caText)
        XCTAssertTrue(caText.contains("prime256v1"), caText)

        let leaf = try ca.leafCertificate(for: "example.test")
        let leafPath = home + "/leaf.pem"
        try leaf.certificatePEM.write(toFile: leafPath, atomically: true, encoding: .utf8)
        let verify = try runCommand(openssl, ["verify", "-CAfile", ca.certificatePath, "-purpose", "sslserver",
                                              "-verify_hostname", "example.test", leafPath])
        XCTAssertEqual(verify.status, 0, verify.output + verify.errorOutput)
        XCTAssertTrue(verify.output.contains("leaf.pem: OK"), verify.output)

        let text = try runCommand(openssl, ["x509", "-in", leafPath, "-noout", "-text"]).output
        XCTAssertTrue(text.contains("DNS:example.test"), text)
        XCTAssertTrue(text.contains("TLS Web Server Authentication"), text)
        XCTAssertTrue(text.contains("CA:FALSE"), text)
        XCTAssertTrue(text.contains("Digital Signature"), text)
        XCTAssertTrue(text.contains("Authority Key Identifier"), text)
        XCTAssertTrue(text.contains("Subject: CN = example.test"), text)
        XCTAssertTrue(text.contains("ecdsa-with-SHA256"), text)

        let fingerprint = try runCommand(openssl, ["x509", "-in", leafPath, "-noout", "-fingerprint", "-sha256"]).output
        let expected = fingerprint.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "").lowercased() }?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(expected, leaf.sha256Fingerprint)
    }

    func testOpenSSLAcceptsIPLeaves() throws {
        let openssl = try opensslPath()
        let home = try makeTemporaryDirectory(self)
        let ca = try CertificateAuthority(home: home)
        for (host, san) in [("127.0.0.1", "IP Address:127.0.0.1"), ("::1", "IP Address:0:0:0:0:0:0:0:1")] {
            let leafPath = home + "/leaf-ip.pem"
            try ca.leafCertificate(for: host).certificatePEM.write(toFile: leafPath, atomically: true, encoding: .utf8)
            let verify = try runCommand(openssl, ["verify", "-CAfile", ca.certificatePath, "-verify_ip", host, leafPath])
            XCTAssertEqual(verify.status, 0, verify.output + verify.errorOutput)
            let text = try runCommand(openssl, ["x509", "-in", leafPath, "-noout", "-text"]).output
            XCTAssertTrue(text.contains(san), text)
        }
    }
}
