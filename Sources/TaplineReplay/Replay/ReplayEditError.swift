import TaplineFlow
import TaplineProtobuf

/// Why `tapline replay --edit FLOW=FILE.json` cannot replace flow FLOW's request message:
/// each case says what to give instead. A value type.
public enum ReplayEditError: Error, Sendable, CustomStringConvertible {
    /// The session has no flow with this id.
    case flowNotFound(FlowID)
    /// The flow is not a gRPC call (its Content-Type, or none).
    case notGRPC(FlowID, contentType: String?)
    /// The method streams, or the recorded call did not send exactly one request message.
    case notUnary(FlowID, method: String, reason: String)
    /// The schema given does not define the method (or no schema was given).
    case noSchema(FlowID, method: String, reason: String)
    /// The JSON is not a message of the method's input type: where, and why.
    case jsonDoesNotFit(FlowID, file: String, typeName: String, ProtobufJSONError)
    /// The recorded message was compressed and the new one cannot be compressed the same way.
    case cannotCompress(FlowID, GRPCMessageDecodingError)

    public var description: String {
        switch self {
        case .flowNotFound(let flow):
            return "--edit: the session has no flow \(flow)"
        case .notGRPC(let flow, let contentType):
            return "--edit: flow \(flow) is not a gRPC call (Content-Type \(contentType.map { $0.debugDescription } ?? "none")); "
                + "only a gRPC call's request message can be edited"
        case .notUnary(let flow, let method, let reason):
            return "--edit: flow \(flow) (\(method)) is not a unary call: \(reason)"
        case .noSchema(let flow, let method, let reason):
            return "--edit: flow \(flow) (\(method)): \(reason); give the schema with --proto, --descriptor-set or --reflect"
        case .jsonDoesNotFit(let flow, let file, let typeName, let error):
            let at = error.pointer.isEmpty ? "the top level" : "JSON Pointer \(error.pointer)"
            return "--edit: \(file) is not a \(typeName) for flow \(flow): at \(at): \(error.reason)"
        case .cannotCompress(let flow, let error):
            return "--edit: flow \(flow)'s request message was sent compressed and the edited one cannot be: \(error)"
        }
    }
}
