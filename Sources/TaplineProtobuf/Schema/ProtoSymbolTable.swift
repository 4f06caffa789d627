/// Every package, message, enum and service of a set of files by full name, and the
/// file defining each type. Built by `ProtoSchema`; rejects a name defined twice.
struct ProtoSymbolTable {
    private(set) var symbols: [String: ProtoSymbol] = [:]
    private(set) var fileOfSymbol: [String: String] = [:]

    mutating func add(_ file: ProtoFile) throws(ProtoSchemaError) {
        var prefix = ""
        for part in file.package.split(separator: ".") {
            prefix = prefix.isEmpty ? String(part) : prefix + "." + part
            switch symbols[prefix] {
            case nil: symbols[prefix] = .package(prefix)
            case .package?: break
            case .some:
                throw ProtoSchemaError(.duplicateName(prefix, previousFile: fileOfSymbol[prefix]),
                                       at: ProtoSourceLocation(file: file.name, line: 1, column: 1))
            }
        }
        for message in file.messages { try add(message, file: file.name) }
        for enumeration in file.enums { try define(enumeration.fullName, .enum(enumeration), file: file.name, at: enumeration.location) }
        for service in file.services { try define(service.fullName, .service(service), file: file.name, at: service.location) }
    }

    private mutating func add(_ message: ProtoMessage, file: String) throws(ProtoSchemaError) {
        try define(message.fullName, .message(message), file: file, at: message.location)
        for nested in message.nestedMessages { try add(nested, file: file) }
        for enumeration in message.enums { try define(enumeration.fullName, .enum(enumeration), file: file, at: enumeration.location) }
    }

    private mutating func define(_ name: String, _ symbol: ProtoSymbol, file: String, at location: ProtoSourceLocation) throws(ProtoSchemaError) {
        if symbols[name] != nil {
            throw ProtoSchemaError(.duplicateName(name, previousFile: fileOfSymbol[name]), at: location)
        }
        symbols[name] = symbol
        fileOfSymbol[name] = file
    }
}
