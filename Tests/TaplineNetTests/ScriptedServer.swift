import TaplineNet

/// A listener that gives every accepted connection a `ScriptedHandler`, set up
/// by `configure`, and keeps both alive. Confined to `loop`; create it on the loop.
final class ScriptedServer: @unchecked Sendable {
    let loop: EventLoop
    private(set) var listener: TCPListener!
    private(set) var handlers: [ScriptedHandler] = []
    private(set) var connections: [TCPConnection] = []

    init(loop: EventLoop, host: String = "127.0.0.1",
         configure: @escaping (ScriptedHandler, TCPConnection) -> Void) throws {
        self.loop = loop
        listener = try TCPListener(loop: loop, address: SocketAddress(host: host, port: 0)) {
            [weak self] connection in
            guard let self else { return connection.close() }
            let handler = ScriptedHandler()
            connection.delegate = handler
            self.handlers.append(handler)
            self.connections.append(connection)
            configure(handler, connection)
        }
    }

    var address: SocketAddress { listener.localAddress }
}
