import XCTest
import TaplineWire

/// The SOCKS5 server handshake, byte by byte: what a client sends, what it gets back.
final class SOCKS5ServerHandshakeTests: XCTestCase {
    private static let noAuthGreeting: [UInt8] = [5, 1, 0]
    private static let credentials = SOCKS5Credentials(username: "alice", password: "s3cret")!

    private static func connect(_ addressType: UInt8, _ address: [UInt8], port: UInt16) -> [UInt8] {
        [5, 1, 0, addressType] + address + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }

    private static func authentication(_ user: String, _ password: String) -> [UInt8] {
        [1, UInt8(user.utf8.count)] + Array(user.utf8) + [UInt8(password.utf8.count)] + Array(password.utf8)
    }

    /// All outputs for `input` fed in one piece, and the optimistic bytes left after a CONNECT.
    private static func run(_ input: [UInt8], credentials: SOCKS5Credentials? = nil,
                            splitAt cuts: [Int] = []) -> (outputs: [SOCKS5HandshakeOutput], rest: [UInt8]) {
        var handshake = SOCKS5ServerHandshake(credentials: credentials)
        var outputs: [SOCKS5HandshakeOutput] = []
        var start = 0
        for cut in cuts + [input.count] {
            outputs += handshake.receive(input[start..<cut])
            start = cut
        }
        return (outputs, handshake.takeUnparsedBytes())
    }

    func testConnectToAnIPv4Address() {
        let (outputs, rest) = Self.run(Self.noAuthGreeting + Self.connect(1, [127, 0, 0, 1], port: 8443))
        XCTAssertEqual(outputs, [.send([5, 0]), .connect(.ipv4([127, 0, 0, 1]), port: 8443)])
        XCTAssertEqual(SOCKS5Address.ipv4([127, 0, 0, 1]).host, "127.0.0.1")
        XCTAssertEqual(rest, [])
    }

    func testConnectToADomainNameKeepsTheName() {
        let name = Array("api.example.test".utf8)
        let (outputs, _) = Self.run(Self.noAuthGreeting + Self.connect(3, [UInt8(name.count)] + name, port: 443))
        XCTAssertEqual(outputs, [.send([5, 0]), .connect(.domainName("api.example.test"), port: 443)])
    }

    func testConnectToAnIPv6Address() {
        let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
        let (outputs, _) = Self.run(Self.noAuthGreeting + Self.connect(4, loopback, port: 80))
        XCTAssertEqual(outputs, [.send([5, 0]), .connect(.ipv6(loopback), port: 80)])
        XCTAssertEqual(SOCKS5Address.ipv6(loopback).host, "::1")
        let documentation: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0]
        XCTAssertEqual(SOCKS5Address.ipv6(documentation).host, "2001:db8::1:0")
        let noRun: [UInt8] = [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]
        XCTAssertEqual(SOCKS5Address.ipv6(noRun).host, "1:2:3:4:5:6:7:8")
    }

    func testBytesSentAfterTheRequestAreHandedOn() {
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x00]
        let (outputs, rest) = Self.run(Self.noAuthGreeting + Self.connect(1, [10, 0, 0, 1], port: 443) + hello)
        XCTAssertEqual(outputs.last, .connect(.ipv4([10, 0, 0, 1]), port: 443))
        XCTAssertEqual(rest, hello)
    }

    func testUsernameAndPasswordAccepted() {
        let input: [UInt8] = [5, 2, 0, 2] + Self.authentication("alice", "s3cret") + Self.connect(1, [127, 0, 0, 1], port: 80)
        let (outputs, _) = Self.run(input, credentials: Self.credentials)
        XCTAssertEqual(outputs, [.send([5, 2]), .send([1, 0]), .connect(.ipv4([127, 0, 0, 1]), port: 80)])
    }

    func testWrongPasswordIsRefusedWithStatus1() {
        let input: [UInt8] = [5, 1, 2] + Self.authentication("alice", "guess") + Self.connect(1, [127, 0, 0, 1], port: 80)
        let (outputs, _) = Self.run(input, credentials: Self.credentials)
        XCTAssertEqual(outputs, [.send([5, 2]), .send([1, 1]), .failed(.authenticationFailed(username: "alice"))])
    }

    func testAClientWithoutCredentialsIsRefusedWhenTheyAreRequired() {
        let (outputs, _) = Self.run(Self.noAuthGreeting, credentials: Self.credentials)
        XCTAssertEqual(outputs, [.send([5, 0xFF]), .failed(.noAcceptableMethod(offered: [0]))])
        XCTAssertTrue(SOCKS5HandshakeError.noAcceptableMethod(offered: [0]).description.contains("--socks5-auth"))
    }

    func testUsernamePasswordOnlyClientIsLetInWhenNoneIsRequired() {
        let input: [UInt8] = [5, 1, 2] + Self.authentication("any", "thing") + Self.connect(1, [127, 0, 0, 1], port: 80)
        let (outputs, _) = Self.run(input)
        XCTAssertEqual(outputs, [.send([5, 2]), .send([1, 0]), .connect(.ipv4([127, 0, 0, 1]), port: 80)])
    }

    func testBindAndUDPAssociateAreCommandNotSupported() {
        for command: UInt8 in [2, 3, 9] {
            let (outputs, _) = Self.run(Self.noAuthGreeting + [5, command, 0, 1, 127, 0, 0, 1, 0, 80])
            XCTAssertEqual(outputs, [.send([5, 0]), .send([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]),
                                     .failed(.unsupportedCommand(command))], "command \(command)")
        }
    }

    func testUnknownAddressTypeIsAddressTypeNotSupported() {
        let (outputs, _) = Self.run(Self.noAuthGreeting + [5, 1, 0, 7, 1, 2, 3])
        XCTAssertEqual(outputs, [.send([5, 0]), .send([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]), .failed(.unsupportedAddressType(7))])
    }

    func testMalformedRequestsAreGeneralFailure() {
        let badNames: [[UInt8]] = [[5, 1, 0, 3, 0, 0, 80], [5, 1, 0, 3, 3, 0x61, 0x2F, 0x62, 0, 80]]
        for request in badNames + [[4, 1, 0, 1, 127, 0, 0, 1, 0, 80], Self.connect(1, [127, 0, 0, 1], port: 0)] {
            let (outputs, _) = Self.run(Self.noAuthGreeting + request)
            XCTAssertEqual(outputs.prefix(2), [.send([5, 0]), .send([5, 1, 0, 1, 0, 0, 0, 0, 0, 0])], "\(request)")
            guard case .failed(.malformedRequest) = outputs.last else { return XCTFail("\(outputs)") }
        }
    }

    func testNotSOCKSGetsNoReplyAndSOCKS4GetsItsRejection() {
        XCTAssertEqual(Self.run(Array("GET / HTTP/1.1\r\n".utf8)).outputs, [.failed(.unsupportedVersion(0x47))])
        XCTAssertEqual(Self.run([4, 1, 0, 80, 127, 0, 0, 1, 0]).outputs,
                       [.send([0, 0x5B, 0, 0, 0, 0, 0, 0]), .failed(.unsupportedVersion(4))])
    }

    func testNoMethodsAtAll() {
        XCTAssertEqual(Self.run([5, 0]).outputs, [.send([5, 0xFF]), .failed(.noAcceptableMethod(offered: []))])
    }

    func testNothingMoreAfterTheEnd() {
        var failed = SOCKS5ServerHandshake(credentials: nil)
        _ = failed.receive([0x47])
        XCTAssertTrue(failed.isFinished)
        XCTAssertEqual(failed.receive(Self.noAuthGreeting), [])
        XCTAssertEqual(failed.takeUnparsedBytes(), [])

        var connected = SOCKS5ServerHandshake(credentials: nil)
        _ = connected.receive(Self.noAuthGreeting + Self.connect(1, [127, 0, 0, 1], port: 80) + [1])
        XCTAssertEqual(connected.receive(Self.noAuthGreeting), [], "a later greeting is data, not a handshake")
        XCTAssertEqual(connected.takeUnparsedBytes(), [1] + Self.noAuthGreeting)
    }

    func testIncompleteInputWaits() {
        let full = Self.noAuthGreeting + Self.connect(3, [4] + Array("host".utf8), port: 443)
        for length in 0..<full.count {
            var handshake = SOCKS5ServerHandshake(credentials: nil)
            let outputs = handshake.receive(full[..<length])
            XCTAssertFalse(handshake.isFinished, "after \(length) bytes")
            XCTAssertEqual(outputs, length >= 3 ? [.send([5, 0])] : [])
        }
    }

    /// The same input gives the same outputs however it is cut, at one or two places.
    func testSplitAtEveryOffsetGivesTheSameResult() {
        let name = Array("h.example".utf8)
        let inputs: [([UInt8], SOCKS5Credentials?)] = [
            (Self.noAuthGreeting + Self.connect(1, [127, 0, 0, 1], port: 443) + [0x16, 3, 1], nil),
            (Self.noAuthGreeting + Self.connect(3, [UInt8(name.count)] + name, port: 80), nil),
            (Self.noAuthGreeting + Self.connect(4, Array(repeating: 0, count: 15) + [1], port: 80) + [1, 2], nil),
            ([5, 2, 0, 2] + Self.authentication("alice", "s3cret") + Self.connect(1, [127, 0, 0, 1], port: 80), Self.credentials),
            ([5, 1, 2] + Self.authentication("alice", "nope") + [9, 9], Self.credentials),
            (Self.noAuthGreeting + [5, 2, 0, 1, 127, 0, 0, 1, 0, 80], nil),
            ([4, 1, 0, 80, 127, 0, 0, 1, 0], nil),
        ]
        for (input, credentials) in inputs {
            let whole = Self.run(input, credentials: credentials)
            for first in 0...input.count {
                XCTAssertEqual(Self.run(input, credentials: credentials, splitAt: [first]).outputs, whole.outputs)
                XCTAssertEqual(Self.run(input, credentials: credentials, splitAt: [first]).rest, whole.rest)
                for second in first...input.count {
                    XCTAssertEqual(Self.run(input, credentials: credentials, splitAt: [first, second]).outputs,
                                   whole.outputs, "cut at \(first) and \(second)")
                }
            }
        }
    }

    func testCredentialsMustFitTheLengthBytes() {
        XCTAssertNil(SOCKS5Credentials(username: "", password: "x"))
        XCTAssertNil(SOCKS5Credentials(username: "u", password: String(repeating: "p", count: 256)))
        XCTAssertNotNil(SOCKS5Credentials(username: "u", password: String(repeating: "p", count: 255)))
    }
}
