/// Which length-prefixed framing a gRPC body uses: both put each message behind a flag
/// byte and a 4-byte big-endian length (gRPC's PROTOCOL-HTTP2.md, "Length-Prefixed-Message").
public enum GRPCFraming: Sendable, Equatable {
    /// Native gRPC over HTTP/2: flag bit 0 is "compressed", the other seven are reserved.
    case grpc
    /// gRPC-Web (PROTOCOL-WEB.md): also flag bit 7, a trailer frame (the call's trailers
    /// as HTTP/1 header lines in the body, the response's last frame).
    case grpcWeb
}
