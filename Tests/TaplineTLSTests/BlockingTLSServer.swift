import Foundation
import Glibc
@testable import TaplineTLS

/// A one-connection TLS server for tests: a blocking socket on 127.0.0.1 (port
/// chosen by the kernel) whose thread drives a server `TLSEngine`. It answers
/// "pong\n" once it has read "ping\n", then sends close_notify and closes.
/// Results are read after `wait()`; all state is guarded by a lock.
final class BlockingTLSServer: @unchecked Sendable {
    struct Outcome {
        var received = ""
        var protocolVersion: String?
        var negotiatedALPN: String?
        var serverName: String?
        var error: TLSError?
    }

    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var result = Outcome()
    private let done = DispatchSemaphore(value: 0)

    init(configuration: TLSServerConfiguration) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { Glibc.close(fd); throw POSIXError(.EADDRNOTAVAIL) }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in
            serve(listener: fd, configuration: configuration)
            done.signal()
        }.start()
    }

    /// Waits for the connection to finish (at most `timeout` seconds).
    func wait(timeout: TimeInterval = 20) -> Outcome {
        _ = done.wait(timeout: .now() + timeout)
        lock.lock()
        defer { lock.unlock() }
        return result
    }

    private func update(_ change: (inout Outcome) -> Void) {
        lock.lock()
        change(&result)
        lock.unlock()
    }

    private func serve(listener: Int32, configuration: TLSServerConfiguration) {
        defer { Glibc.close(listener) }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return }
        defer { Glibc.close(connection) }
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let engine: TLSEngine
        do { engine = try TLSEngine(server: configuration) } catch { update { $0.error = error }; return }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        func flush() {
            let bytes = engine.takeOutgoingCiphertext()
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                offset += n
            }
        }
        while true {
            let n = read(connection, &buffer, buffer.count)
            if n <= 0 { break }
            do {
                received += try engine.receive(ciphertext: buffer[0..<n])
            } catch {
                update { $0.error = error }
                flush()
                return
            }
            if engine.state == .established {
                update {
                    $0.protocolVersion = engine.protocolVersion
                    $0.negotiatedALPN = engine.negotiatedALPN
                    $0.serverName = engine.serverName
                }
            }
            if String(decoding: received, as: UTF8.self).contains("ping\n") {
                try? engine.send(plaintext: Array("pong\n".utf8))
                engine.close()
                flush()
                break
            }
            flush()
        }
        update { $0.received = String(decoding: received, as: UTF8.self) }
    }
}
