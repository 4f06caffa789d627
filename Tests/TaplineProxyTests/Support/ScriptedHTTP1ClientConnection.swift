import Foundation
import TaplineFlow
import TaplineHTTPClient
import TaplineNet
import TaplineTLS
import TaplineTestSupport
import XCTest
@testable import TaplineProxy

/// What a socket-free `HTTP1ProxyHandler` test needs: a throwaway Tapline home with its
/// CA, one event loop, a collecting recorder, and the client connection as a
/// `ScriptedByteStream` (reached at 127.0.0.1:8080, from 127.0.0.1:50000, connection 1).
///
/// Thread ownership: `client` and everything `startHandler` makes belong to `loop`;
/// call `startHandler` from a task on it. The stored properties never change after
/// `init` and the recorder takes events from any thread, so the fixture itself may be
/// captured by the test's tasks (hence `@unchecked Sendable`). The loop is shut down
/// when the test is torn down.
final class ScriptedHTTP1ClientConnection: @unchecked Sendable {
    let loop: EventLoop
    let recorder = CollectingFlowRecorder()
    let listen: SocketAddress
    let client: ScriptedByteStream
    private let certificateAuthority: CertificateAuthority

    init(for test: XCTestCase) throws {
        let home = NSTemporaryDirectory() + "tapline-proxy-tests-" + UUID().uuidString
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        certificateAuthority = try CertificateAuthority(home: home)
        let group = try EventLoopGroup(threads: 1)
        test.addTeardownBlock { group.shutdown() }  // on the test's thread, never on the loop's
        loop = group.loops[0]
        listen = try SocketAddress(host: "127.0.0.1", port: 8080)
        client = ScriptedByteStream(loop: loop, localAddress: listen,
                                    remoteAddress: try SocketAddress(host: "127.0.0.1", port: 50_000))
    }

    /// Makes the handler for `client` (registered with its context, started); on `loop`.
    func startHandler(route: HTTP1Route, legSource: (any UpstreamLegSource)? = nil) -> HTTP1ProxyHandler {
        let context = ProxyContext(loop: loop, configuration: ProxyConfiguration(listenAddress: listen),
                                   recorder: recorder, certificateAuthority: certificateAuthority,
                                   flowIDs: IdentifierSource(), connectionIDs: IdentifierSource())
        let info = ClientConnectionInfo(id: ConnectionID(1), address: client.remoteAddress, scheme: "http")
        let handler = HTTP1ProxyHandler(context: context, client: client, info: info, route: route,
                                        legSource: legSource)
        context.register(handler, for: client.transport)
        handler.start()
        return handler
    }

    /// The error of the first flow that ended, as recorded.
    var firstFlowError: FlowError? {
        recorder.events.lazy.compactMap { event -> FlowError? in
            if case .flowEnded(_, _, _, _, let error, _) = event { return error }
            return nil
        }.first
    }

    /// Waits until the client connection's close is recorded.
    func waitForConnectionClosed(timeout: TimeInterval = 10) -> Bool {
        recorder.wait(timeout: timeout) { if case .connectionClosed = $0 { true } else { false } }
    }
}
