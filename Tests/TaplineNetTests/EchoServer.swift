import TaplineNet

/// A listener whose connections get an `EchoServerHandler`; keeps the handlers
/// alive (delegates are weak). Confined to `loop`; create it on the loop. A connection
/// accepted or closed after the test let go of the server is closed or ignored (the loop
/// can outlive it).
final class EchoServer: @unchecked Sendable {
    let loop: EventLoop
    private(set) var listener: TCPListener!
    private(set) var handlers: [EchoServerHandler] = []
    private(set) var connections: [TCPConnection] = []
    var onHandlerClosed: ((EchoServerHandler) -> Void)?

    init(loop: EventLoop, address: SocketAddress) throws {
        self.loop = loop
        listener = try TCPListener(loop: loop, address: address) { [weak self] connection in
            guard let self else { return connection.close() }
            let handler = EchoServerHandler()
            handler.onClose = { [weak self] in self?.onHandlerClosed?($0) }
            connection.delegate = handler
            self.handlers.append(handler)
            self.connections.append(connection)
        }
    }

    var address: SocketAddress { listener.localAddress }
}
