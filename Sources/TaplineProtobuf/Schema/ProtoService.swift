/// A service and its methods, as protoc's `ServiceDescriptorProto` describes them.
public struct ProtoService: Sendable, Equatable {
    public struct Method: Sendable, Equatable {
        public var name: String
        /// Full name of the request message, no leading dot (as written until `ProtoSchema` resolves it).
        public var inputType: String
        public var outputType: String
        public var clientStreaming: Bool
        public var serverStreaming: Bool
        public var deprecated: Bool?
        public var location: ProtoSourceLocation
        public var inputTypeLocation: ProtoSourceLocation
        public var outputTypeLocation: ProtoSourceLocation

        /// The gRPC call kind's name: `unary`, `server streaming`, `client streaming` or `bidi streaming`.
        public var callKind: String {
            switch (clientStreaming, serverStreaming) {
            case (false, false): "unary"
            case (false, true): "server streaming"
            case (true, false): "client streaming"
            case (true, true): "bidi streaming"
            }
        }
    }

    public var name: String
    /// Package and name, no leading dot: `shop.v1.Orders` (the gRPC path is `/shop.v1.Orders/Method`).
    public var fullName: String
    public var methods: [Method] = []
    public var deprecated: Bool?
    public var location: ProtoSourceLocation

    public init(name: String, fullName: String, location: ProtoSourceLocation) {
        self.name = name
        self.fullName = fullName
        self.location = location
    }
}
