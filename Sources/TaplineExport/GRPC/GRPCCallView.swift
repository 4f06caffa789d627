import TaplineCapture
import TaplineWire

/// A captured gRPC or gRPC-Web call seen as gRPC: `package.Service/Method`, its kind,
/// metadata, every message of both directions decoded, trailers and status. Built by
/// `GRPCCallDecoder` at read time from the flow's heads and stored body bytes, so a
/// session captured without schemas decodes later with them.
///
/// Invariants: `messages` holds the request messages then the response messages, each
/// direction in stream order; when `kindIsInferred` is false the kind is the schema's.
/// A value type.
public struct GRPCCallView: Sendable, Equatable {
    public var contentType: GRPCContentType
    /// The service's full name (`tapline.example.v1.Orders`), from the request's `:path`.
    public var service: String
    /// The method's name (`GetOrder`).
    public var method: String
    public var kind: GRPCCallKind
    /// True when no schema defines the method and `kind` was guessed from message counts.
    public var kindIsInferred: Bool
    /// The message types the schema gives the method; nil without one.
    public var requestType: String?
    public var responseType: String?
    /// The request's and the response head's custom metadata (`GRPCCallDecoder.metadata`:
    /// no pseudo-headers, `grpc-` fields or transport fields).
    public var requestMetadata: HTTPHeaders
    public var responseMetadata: HTTPHeaders
    public var messages: [GRPCCapturedMessage]
    /// The response trailers: the HTTP/2 trailers, or gRPC-Web's trailer frame; nil
    /// when none arrived (a trailers-only response carries its status in the head).
    public var trailers: HTTPHeaders?
    public var status: GRPCStatus?
    /// `grpc-status-details-bin` as the JSON of a `google.rpc.Status`, each detail an
    /// `Any` with `@type` (decoded with the schema when it has the type, else raw).
    public var statusDetails: JSONValue?
    /// What the reader should know about this view: undecodable parts, times taken
    /// from the heads, a body that could not be split into messages.
    public var notes: [String]

    /// `package.Service/Method`.
    public var fullMethod: String { "\(service)/\(method)" }

    /// How many messages went in `direction`, incomplete ones included.
    public func messageCount(_ direction: BodyDirection) -> Int {
        messages.lazy.filter { $0.direction == direction }.count
    }

    /// `unary`, or `server streaming (inferred)` when no schema defines the method.
    public var kindText: String { kindIsInferred ? "\(kind.rawValue) (inferred)" : kind.rawValue }
}
