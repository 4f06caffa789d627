import XCTest
@testable import TaplineWire

final class TLSClientHelloSnifferTests: XCTestCase {
    private let expected = TLSClientHelloSniffer.Result.tlsClientHello(
        serverName: ClientHelloFixture.serverName, alpn: ClientHelloFixture.alpn)

    func testRealClientHelloGivesSNIAndALPN() {
        let hello = ClientHelloFixture.bytes
        XCTAssertEqual(hello.count, 336)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(hello), expected)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(hello + [1, 2, 3]), expected, "bytes after the hello are ignored")
    }

    func testEveryPrefixNeedsMoreData() {
        let hello = ClientHelloFixture.bytes
        for length in 0..<hello.count {
            XCTAssertEqual(TLSClientHelloSniffer.sniff(hello[0..<length]), .needMoreData, "prefix \(length)")
        }
    }

    func testClientHelloSplitAcrossRecords() {
        let hello = ClientHelloFixture.bytes
        let handshake = Array(hello[5...])
        var split: [UInt8] = []
        for piece in [handshake[0..<3], handshake[3..<100], handshake[100...]] {
            split += [0x16, 0x03, 0x01, UInt8(piece.count >> 8), UInt8(piece.count & 0xFF)] + piece
        }
        XCTAssertEqual(TLSClientHelloSniffer.sniff(split), expected)
        for length in 0..<split.count {
            XCTAssertEqual(TLSClientHelloSniffer.sniff(split[0..<length]), .needMoreData, "prefix \(length)")
        }
        // Another record type between the pieces is not a ClientHello.
        var interleaved = Array(split[0..<8])
        interleaved += [0x17, 0x03, 0x03, 0x00, 0x01, 0x00]
        XCTAssertEqual(TLSClientHelloSniffer.sniff(interleaved), .other)
    }

    func testHandBuiltClientHelloWithoutExtensions() {
        var body: [UInt8] = [0x03, 0x03] + Array(repeating: 7, count: 32) + [0] + [0x00, 0x02, 0x13, 0x01] + [0x01, 0x00]
        var handshake: [UInt8] = [0x01, 0, 0, UInt8(body.count)] + body
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x16, 0x03, 0x01, 0, UInt8(handshake.count)] + handshake),
                       .tlsClientHello(serverName: nil, alpn: []))
        // A truncated cipher-suite vector inside a complete message is malformed.
        body = [0x03, 0x03] + Array(repeating: 7, count: 32) + [0] + [0x00, 0x40, 0x13, 0x01]
        handshake = [0x01, 0, 0, UInt8(body.count)] + body
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x16, 0x03, 0x01, 0, UInt8(handshake.count)] + handshake), .other)
    }

    func testPlaintextHTTP1() {
        XCTAssertEqual(TLSClientHelloSniffer.sniff(Array("GET / HTTP/1.1\r\n".utf8)), .http1)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(Array("M-SEARCH * HTTP/1.1".utf8)), .http1)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(Array("GET".utf8)), .needMoreData)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(Array("PRI /x HTTP/1.1".utf8)), .http1)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(Array("get / HTTP/1.1".utf8)), .other)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(Array(" GET".utf8)), .other)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(Array(String(repeating: "A", count: 40).utf8)), .other)
    }

    func testHTTP2Preface() {
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        for length in 0..<preface.count {
            XCTAssertEqual(TLSClientHelloSniffer.sniff(preface[0..<length]), .needMoreData, "prefix \(length)")
        }
        XCTAssertEqual(TLSClientHelloSniffer.sniff(preface), .http2Preface)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(preface + [0, 0, 0, 4]), .http2Preface)
    }

    func testGarbageIsOther() {
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x00, 0x01, 0x02]), .other)
        XCTAssertEqual(TLSClientHelloSniffer.sniff(Array("SSH-2.0-OpenSSH_9.2\r\n".utf8)), .other)
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x16, 0x05]), .other)
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x16, 0x03, 0x09]), .other)
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x16, 0x03, 0x01, 0x00, 0x00]), .other)
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x16, 0x03, 0x01, 0x40, 0x01]), .other)
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0]), .other, "ServerHello")
    }

    func testOversizedClientHelloIsNotWaitedFor() {
        XCTAssertEqual(TLSClientHelloSniffer.sniff([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x7F, 0xFF, 0xFF]),
                       .tlsClientHello(serverName: nil, alpn: []))
    }

    func testMutatedHellosNeverTrap() {
        var rng = SplitMix64(seed: 42)
        let hello = ClientHelloFixture.bytes
        for _ in 0..<5_000 {
            var mutated = hello
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                mutated[Int(rng.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            let cut = Int(rng.next() % UInt64(mutated.count + 1))
            _ = TLSClientHelloSniffer.sniff(mutated[0..<cut])
            _ = TLSClientHelloSniffer.sniff(mutated)
        }
    }
}

/// A tiny deterministic generator for reproducible mutation tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
