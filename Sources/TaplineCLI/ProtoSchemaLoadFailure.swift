import TaplineGRPCReflection
import TaplineProtobuf

/// Why `ProtoSchemaSources` gave no schema: a file or descriptor set that does not load,
/// or a server whose reflection gave none. The description is the underlying error's.
enum ProtoSchemaLoadFailure: Error, CustomStringConvertible {
    case schema(ProtoSchemaError)
    case reflection(ServerReflectionError)

    var description: String {
        switch self {
        case .schema(let error): error.description
        case .reflection(let error): error.description
        }
    }
}
