import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineProtobuf
import TaplineWire

/// gRPC calls for the comparison and mock tests: a small schema, messages written
/// field by field (so a test chooses the field order and packed or unpacked), gRPC
/// framing, and views decoded by `GRPCCallDecoder` from in-memory bodies.
enum GRPCTestCalls {
    static let proto = """
    syntax = "proto3";
    package t.v1;
    message Req { string id = 1; int32 n = 2; repeated int32 tags = 3; }
    message Item { string name = 1; string updated_at = 2; }
    message Reply { repeated Item items = 1; string updated_at = 2; }
    service S { rpc Get(Req) returns (Reply); rpc Watch(Req) returns (stream Reply); }
    """

    static func schema() throws -> ProtoSchema {
        try ProtoSchema(files: [try ProtoParser.parse(text: proto, name: "t.proto")])
    }

    /// A field of a message being written: tag and value, in the order given.
    enum Field {
        case varint(UInt32, UInt64)
        case string(UInt32, String)
        case message(UInt32, [Field])
        case bytes(UInt32, [UInt8])
        /// A packed repeated varint field: one length-delimited value.
        case packed(UInt32, [UInt64])
    }

    static func encode(_ fields: [Field]) -> [UInt8] {
        var writer = ProtobufWireWriter()
        for field in fields {
            switch field {
            case .varint(let number, let value): writer.writeVarintField(number, value)
            case .string(let number, let text): writer.writeLengthDelimitedField(number, Array(text.utf8))
            case .message(let number, let nested): writer.writeLengthDelimitedField(number, encode(nested))
            case .bytes(let number, let bytes): writer.writeLengthDelimitedField(number, bytes)
            case .packed(let number, let values):
                var packed = ProtobufWireWriter()
                for value in values { packed.writeVarint(value) }
                writer.writeLengthDelimitedField(number, packed.bytes)
            }
        }
        return writer.bytes
    }

    /// Length-prefixed gRPC frames (uncompressed) of `messages`, back to back.
    static func frames(_ messages: [[UInt8]]) -> [UInt8] {
        messages.flatMap { GRPCMessageFrame.encoded($0) }
    }

    static let requestHeaders = HTTPHeaders([(name: "Content-Type", value: "application/grpc")])

    /// A call to `/t.v1.S/<method>` ending with `trailers`, seen through `decoder`.
    static func view(_ decoder: GRPCCallDecoder, method: String = "Get", request: [[UInt8]], response: [[UInt8]],
                     trailers: [(String, String)] = [("grpc-status", "0")]) -> GRPCCallView? {
        var flow = CapturedFlow(id: FlowID(1), connection: ConnectionID(1), kind: .http, scheme: "http",
                                authority: "127.0.0.1:50051", started: Timestamp(microseconds: 0), sessionDirectory: "/nonexistent")
        flow.request = HTTPRequestHead(method: "POST", target: "/t.v1.S/\(method)", headers: requestHeaders)
        flow.response = HTTPResponseHead(status: 200, headers: HTTPHeaders([(name: "Content-Type", value: "application/grpc")]))
        flow.responseTrailers = HTTPHeaders(trailers.map { (name: $0.0, value: $0.1) })
        return decoder.view(of: flow, requestBody: frames(request), responseBody: frames(response))
    }
}
