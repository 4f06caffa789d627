/// What `GRPCMessageFramer` found in a direction's bytes, in stream order.
public enum GRPCFramerEvent: Equatable, Sendable {
    /// A whole message arrived: its last payload byte was in the bytes just consumed.
    case message(GRPCMessageFrame)
    /// gRPC-Web's trailer frame (flag 0x80), with the fields its payload holds
    /// (`name: value` lines, names lower-cased).
    case trailers(GRPCMessageFrame, fields: HTTPHeaders)
}
