/// The four gRPC call kinds (gRPC's concepts: unary, server streaming, client
/// streaming, bidirectional streaming).
public enum GRPCCallKind: String, Sendable, Equatable {
    case unary
    case serverStreaming = "server streaming"
    case clientStreaming = "client streaming"
    case bidiStreaming = "bidi streaming"

    public init(clientStreaming: Bool, serverStreaming: Bool) {
        switch (clientStreaming, serverStreaming) {
        case (false, false): self = .unary
        case (false, true): self = .serverStreaming
        case (true, false): self = .clientStreaming
        case (true, true): self = .bidiStreaming
        }
    }

    /// The kind message counts suggest when no schema names the method: more than one
    /// message in a direction means that direction streams. A streaming method that
    /// sent one message looks unary, hence callers label it inferred.
    public init(requestMessages: Int, responseMessages: Int) {
        self.init(clientStreaming: requestMessages > 1, serverStreaming: responseMessages > 1)
    }
}
