/// What a full name in a `ProtoSchema` denotes.
public enum ProtoSymbol: Sendable, Equatable {
    /// A package, or a leading part of one (`shop` of `shop.v1`).
    case package(String)
    case message(ProtoMessage)
    case `enum`(ProtoEnum)
    case service(ProtoService)
    /// A method, with the service that holds it.
    case method(ProtoService.Method, service: ProtoService)

    /// How an error message names this kind of symbol: "a message", "a package", ...
    public var kindDescription: String {
        switch self {
        case .package: "a package"
        case .message: "a message"
        case .enum: "an enum"
        case .service: "a service"
        case .method: "a method"
        }
    }
}
