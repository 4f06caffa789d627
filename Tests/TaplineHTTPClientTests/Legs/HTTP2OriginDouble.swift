import TaplineHTTP2
import XCTest

/// An HTTP/2 origin without a socket, for leg tests: a server-role `HTTP2Session` at
/// the far end of a `SynchronousByteStream` that stands for the upstream connection.
/// The test scripts the server (responses, DATA, resets) and calls `exchangeFrames`.
final class HTTP2OriginDouble {
    /// The upstream connection's socket, as the leg under test sees it.
    let socket = SynchronousByteStream()
    let server: HTTP2Session
    /// The request events the server session saw so far.
    private(set) var received: [HTTP2Event] = []

    /// - Parameter settings: the server session's (by default it announces RFC 8441's
    ///   SETTINGS_ENABLE_CONNECT_PROTOCOL).
    init(settings: HTTP2SessionSettings = HTTP2SessionSettings()) throws {
        server = try HTTP2Session(role: .server, settings: settings)
    }

    /// Carries bytes both ways until neither side has more to say. `flushClient` runs
    /// first in every round, for a client side that does not pump itself.
    func exchangeFrames(flushClient: () -> Void = {}) {
        while true {
            flushClient()
            let toServer = socket.takeWrittenBytes()
            if !toServer.isEmpty { XCTAssertNil(server.receive(toServer)) }
            received += server.takeEvents()
            let toClient = server.takeOutput()
            if !toClient.isEmpty { socket.deliver(bytes: toClient) }
            if toServer.isEmpty, toClient.isEmpty { return }
        }
    }
}
