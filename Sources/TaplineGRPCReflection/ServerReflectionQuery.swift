/// What a reflection conversation asks a server for.
public enum ServerReflectionQuery: Sendable, Hashable {
    /// Every service the server lists (`list_services`), with the files that define them.
    case allServices
    /// The file that defines one fully-qualified symbol (a service, method, message or
    /// enum; a leading dot is dropped), with its dependencies.
    case symbol(String)
}
