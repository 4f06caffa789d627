import Glibc
import TaplineNet
import XCTest

/// A connect that never completes: a raw listening socket with backlog 0 that
/// never accepts. Once its accept queue is full the kernel drops further SYNs,
/// so later connects hang until our timer fires.
final class ConnectTimeoutTests: XCTestCase {
    func testConnectToFullAcceptQueueTimesOut() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &sin) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && listen(fd, 0) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        XCTAssertTrue(bound)
        let address = try SocketAddress(host: "127.0.0.1", port: Int(UInt16(bigEndian: sin.sin_port)))

        let group = try EventLoopGroup(threads: 1)
        defer { group.shutdown() }
        let loop = group.loops[0]
        let attempts = 4
        let finished = expectation(description: "every connect finished")
        finished.expectedFulfillmentCount = attempts
        let results = SyncBox<[NetError?]>([])
        let keep = SyncBox<[LoopBound<TCPConnection>]>([])
        try LoopRunner.run(loop) {
            for _ in 0..<attempts {
                TCPConnection.connect(loop: loop, to: address, timeoutMilliseconds: 300) { result in
                    switch result {
                    case .success(let connection):
                        keep.mutate { $0.append(LoopBound(connection, loop: loop)) }
                        results.mutate { $0.append(nil) }
                    case .failure(let error):
                        results.mutate { $0.append(error) }
                    }
                    finished.fulfill()
                }
            }
        }
        wait(for: [finished], timeout: 10)
        let errors = results.value.compactMap { $0 }
        XCTAssertFalse(errors.isEmpty, "expected at least one connect to hang")
        XCTAssertTrue(errors.allSatisfy { $0 == .connectTimeout(address.description) }, "\(errors)")
    }
}
