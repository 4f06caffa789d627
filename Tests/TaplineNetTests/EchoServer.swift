import TaplineNet

/// A listener whose connections get an `EchoServerHandler`; keeps the handlers
/// alive (delegates are weak). Confined to `loop`; create it on the loop.
final class EchoServer: @unchecked Sendable {
    let loop: EventLoop
    private(set) var listener: TCPListener!
    private(set) var handlers: [EchoServerHandler] = []
    private(set) var connections: [TCPConnection] = []
    var onHandlerClosed: ((EchoServerHandler) -> Void)?

    init(loop: EventLoop, address: SocketAddress) throws {
        self.loop = loop
        listener = try TCPListener(loop: loop, address: address) { [unowned self] connection in
            let handler = EchoServerHandler()
            handler.onClose = { [unowned self] in self.onHandlerClosed?($0) }
            connection.delegate = handler
            self.handlers.append(handler)
            self.connections.append(connection)
        }
    }

    var address: SocketAddress { listener.localAddress }
}
