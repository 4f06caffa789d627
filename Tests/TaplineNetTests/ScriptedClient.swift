import TaplineNet

/// Connects with a `ScriptedHandler` and keeps connection and handler alive.
/// Confined to `loop`.
final class ScriptedClient: @unchecked Sendable {
    let loop: EventLoop
    let handler = ScriptedHandler()
    private(set) var connection: TCPConnection?
    private(set) var connectResult: Result<Void, NetError>?

    init(loop: EventLoop) { self.loop = loop }

    /// Loop thread only. `then` runs once the connect finished either way.
    func connect(to address: SocketAddress, timeoutMilliseconds: Int = 5000,
                 then: @escaping (ScriptedClient) -> Void) {
        TCPConnection.connect(loop: loop, to: address, timeoutMilliseconds: timeoutMilliseconds) { result in
            switch result {
            case .success(let connection):
                self.connection = connection
                connection.delegate = self.handler
                self.connectResult = .success(())
            case .failure(let error):
                self.connectResult = .failure(error)
            }
            then(self)
        }
    }
}
