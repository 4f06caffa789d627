import TaplineProtobuf

/// Why a server's reflection gave no schema, in words that say what to do instead.
public struct ServerReflectionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Both `grpc.reflection.v1` and `v1alpha` answered UNIMPLEMENTED: the server has no reflection.
        case notServed
        /// The connection or the stream failed (unreachable, TLS, reset); the text says how.
        case connectionFailed(String)
        /// No answer within the time limit.
        case timedOut(milliseconds: Int)
        /// The reflection call ended with a gRPC status other than OK before it was complete.
        case callFailed(code: Int, name: String, message: String)
        /// The server answered a request with an `ErrorResponse` (a symbol or file it does not know).
        case notFound(request: String, code: Int, message: String)
        /// A response that is not a reflection response, or a descriptor that does not decode.
        case badResponse(String)
        /// The descriptors arrived but do not make a schema (a dependency missing, a type unresolved).
        case schema(ProtoSchemaError)
    }

    public let kind: Kind
    /// The upstream asked, as the user wrote it (`h2c://host:port`).
    public let upstream: String

    public init(_ kind: Kind, upstream: String) {
        self.kind = kind
        self.upstream = upstream
    }

    public var description: String {
        let fallback = "; give the schema with --proto or --descriptor-set instead"
        switch kind {
        case .notServed:
            return "\(upstream) does not serve gRPC server reflection (grpc.reflection.v1 and v1alpha both answered "
                + "UNIMPLEMENTED): enable reflection on the server\(fallback)"
        case .connectionFailed(let reason):
            return "cannot ask \(upstream) for its reflection: \(reason)"
        case .timedOut(let milliseconds):
            return "\(upstream) did not finish answering reflection within \(milliseconds / 1_000) s (raise --timeout\(fallback))"
        case .callFailed(let code, let name, let message):
            return "\(upstream)'s reflection call failed with gRPC status \(code) \(name)\(message.isEmpty ? "" : ": \(message)")"
        case .notFound(let request, let code, let message):
            return "\(upstream)'s reflection has no \(request) (error \(code)\(message.isEmpty ? "" : ": \(message)"))"
        case .badResponse(let reason):
            return "\(upstream) sent a reflection response Tapline cannot read: \(reason)"
        case .schema(let error):
            return "the descriptors \(upstream)'s reflection gave do not load: \(error)"
        }
    }
}
