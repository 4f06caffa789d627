import COpenSSL
import Foundation
import Glibc
import XCTest
@testable import TaplineTLS
import TaplineTestSupport

final class ClientTrustFilesTests: XCTestCase {
    /// The bundle is the base roots as they were, then the CA; the hashed directory
    /// holds the CA under OpenSSL's name for it; a second run reuses the files.
    func testBundleAndHashedDirectoryHoldTheRootsThenTheCA() throws {
        let (home, ca, otherRoot, base) = try makeCAAndBaseRoots()
        let files = try ClientTrustFiles.prepare(for: ca, baseRootsPath: base)
        XCTAssertEqual(files.baseRootsPath, base)
        let bundle = try String(contentsOfFile: files.bundlePath, encoding: .utf8)
        XCTAssertTrue(bundle.hasPrefix(otherRoot.certificatePEM))
        XCTAssertTrue(bundle.hasSuffix(ca.certificatePEM))
        let hashed = try FileManager.default.contentsOfDirectory(atPath: files.hashedCertificateDirectory)
        let subjectHash = ca.withCertificate { X509_subject_name_hash($0) }
        XCTAssertEqual(hashed, [String(format: "%08lx", subjectHash) + ".0"])

        let again = try ClientTrustFiles.prepare(for: ca, baseRootsPath: base)
        XCTAssertEqual(again.bundlePath, files.bundlePath)
        XCTAssertEqual(again.javaTrustStorePath, files.javaTrustStorePath)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home + "/client-trust").filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    /// A new CA gives new file names: a run never gets the bundle of an older CA.
    func testANewCAGetsNewFiles() throws {
        let home = try makeTemporaryDirectory(self)
        let first = try ClientTrustFiles.prepare(for: try CertificateAuthority(home: home), baseRootsPath: nil)
        let second = try ClientTrustFiles.prepare(for: try CertificateAuthority.regenerate(home: home), baseRootsPath: nil)
        XCTAssertNotEqual(first.bundlePath, second.bundlePath)
        XCTAssertNotEqual(first.hashedCertificateDirectory, second.hashedCertificateDirectory)
        XCTAssertNotEqual(first.javaTrustStorePath, second.javaTrustStorePath)
    }

    /// Without readable base roots the bundle is the CA alone, and says so.
    func testMissingBaseRootsGiveTheCAAlone() throws {
        let home = try makeTemporaryDirectory(self)
        let ca = try CertificateAuthority(home: home)
        let files = try ClientTrustFiles.prepare(for: ca, baseRootsPath: home + "/no-such-roots.pem")
        XCTAssertNil(files.baseRootsPath)
        XCTAssertTrue(try String(contentsOfFile: files.bundlePath, encoding: .utf8).hasSuffix(ca.certificatePEM))
    }

    /// The PKCS#12 store opens with its password and holds every certificate, each
    /// with the trusted-key-usage attribute Java needs, and no key.
    func testJavaTrustStoreMarksEveryCertificateTrusted() throws {
        let (_, ca, _, base) = try makeCAAndBaseRoots()
        let files = try ClientTrustFiles.prepare(for: ca, baseRootsPath: base)

        let der = [UInt8](try Data(contentsOf: URL(fileURLWithPath: files.javaTrustStorePath)))
        let store: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PKCS12(nil, &cursor, buffer.count)
        }
        let p12 = try XCTUnwrap(store)
        defer { PKCS12_free(p12) }
        XCTAssertEqual(PKCS12_verify_mac(p12, ClientTrustFiles.javaTrustStorePassword, -1), 1)
        var key: OpaquePointer?
        var certificate: OpaquePointer?
        var others: OpaquePointer?
        XCTAssertEqual(PKCS12_parse(p12, ClientTrustFiles.javaTrustStorePassword, &key, &certificate, &others), 1)
        defer { X509_free(certificate); EVP_PKEY_free(key) }
        XCTAssertNil(key)
        XCTAssertEqual(OPENSSL_sk_num(others), 2)
        OPENSSL_sk_pop_free(others) { X509_free(OpaquePointer($0)) }

        // Each bag carries the attribute (found by its OID in the DER: one per certificate).
        let oid: [UInt8] = [0x06, 0x0c, 0x60, 0x86, 0x48, 0x01, 0x86, 0xf9, 0x66, 0xad, 0xca, 0x7b, 0x01, 0x01]
        let occurrences = (0...(der.count - oid.count)).filter { der[$0..<($0 + oid.count)].elementsEqual(oid) }.count
        XCTAssertEqual(occurrences, 2)
    }

    /// A home with a CA, and a base roots file holding another (unrelated) CA's certificate.
    private func makeCAAndBaseRoots() throws -> (home: String, ca: CertificateAuthority, otherRoot: CertificateAuthority, base: String) {
        let home = try makeTemporaryDirectory(self)
        let ca = try CertificateAuthority(home: home)
        let otherRoot = try CertificateAuthority(home: home + "/other")
        let base = home + "/roots.pem"
        try otherRoot.certificatePEM.write(toFile: base, atomically: true, encoding: .utf8)
        return (home, ca, otherRoot, base)
    }
}
