@testable import TaplineHTTP2

/// Drives a client and a server session of ours against each other in memory.
enum HTTP2SessionPump {
    /// Moves bytes both ways until both sides are quiet; returns the events each saw.
    static func run(_ client: HTTP2Session, _ server: HTTP2Session,
                    onServerEvent: (HTTP2Event) throws -> Void = { _ in }) rethrows -> (client: [HTTP2Event], server: [HTTP2Event]) {
        var clientEvents: [HTTP2Event] = []
        var serverEvents: [HTTP2Event] = []
        for _ in 0..<20 {
            let toServer = client.takeOutput()
            server.receive(toServer)
            for event in server.takeEvents() {
                serverEvents.append(event)
                if case .data(let id, let bytes) = event { server.consume(stream: id, count: bytes.count) }
                try onServerEvent(event)
            }
            let toClient = server.takeOutput()
            client.receive(toClient)
            for event in client.takeEvents() {
                clientEvents.append(event)
                if case .data(let id, let bytes) = event { client.consume(stream: id, count: bytes.count) }
            }
            if toServer.isEmpty && toClient.isEmpty { break }
        }
        return (HTTP2SessionExchangeTests.normalized(clientEvents), HTTP2SessionExchangeTests.normalized(serverEvents))
    }
}
