import TaplineWire

/// One way in which B's answer to a paired request differs from A's. A value type.
public enum FlowDifference: Sendable, Equatable {
    /// The final status (nil: no response was recorded).
    case status(a: Int?, b: Int?)
    /// A response header field.
    case header(FieldDifference)
    /// A response trailer field.
    case trailer(FieldDifference)
    /// The gRPC status the call ended with (nil: none).
    case grpcStatus(a: GRPCStatus?, b: GRPCStatus?)
    /// The response body.
    case body(BodyDifference)
    /// A WebSocket message.
    case message(WebSocketMessageDifference)
    /// A gRPC request or response message (`GRPCCallComparison`).
    case grpcMessage(GRPCMessageDifference)
    /// The decoded `grpc-status-details-bin` (a `google.rpc.Status` as JSON; `{}` when absent): the changes (never empty).
    case grpcStatusDetails([JSONChange])
    /// How the flow ended: the recorded error kind (nil: it completed).
    case outcome(a: String?, b: String?)
    /// B took more than `--slower-than` times A's time, in milliseconds.
    case slower(aMilliseconds: Double, bMilliseconds: Double)
}
