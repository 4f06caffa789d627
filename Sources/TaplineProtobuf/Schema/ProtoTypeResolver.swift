/// Resolves the type names of one file's fields and methods against a symbol table,
/// seeing only the types of `visibleFiles` (see `ProtoSchema` for the rules), and
/// settles what depends on a field's type: `.message` or `.enum`, packed by default.
struct ProtoTypeResolver {
    let table: ProtoSymbolTable
    let visibleFiles: Set<String>

    func resolve(_ file: ProtoFile) throws(ProtoSchemaError) -> ProtoFile {
        var file = file
        let proto3Packing = file.syntax != .proto2
        for position in file.messages.indices {
            try resolve(&file.messages[position], packedByDefault: proto3Packing)
        }
        for position in file.services.indices {
            let scope = file.package
            for methodPosition in file.services[position].methods.indices {
                var method = file.services[position].methods[methodPosition]
                let usedBy = "rpc `\(method.name)`"
                method.inputType = try messageName(method.inputType, scope: scope, usedBy: usedBy, at: method.inputTypeLocation)
                method.outputType = try messageName(method.outputType, scope: scope, usedBy: usedBy, at: method.outputTypeLocation)
                file.services[position].methods[methodPosition] = method
            }
        }
        return file
    }

    private func resolve(_ message: inout ProtoMessage, packedByDefault: Bool) throws(ProtoSchemaError) {
        for position in message.fields.indices {
            var field = message.fields[position]
            if case .named(let name) = field.type {
                let usedBy = "field `\(field.name)`"
                switch try lookUpType(name, scope: message.fullName, usedBy: usedBy, at: field.typeLocation) {
                case .message(let target):
                    field.type = .message(target.fullName)
                    if field.defaultValue != nil {
                        throw ProtoSchemaError(.invalidOption("field `\(field.name)`: messages cannot have default values"), at: field.location)
                    }
                case .enum(let target):
                    field.type = .enum(target.fullName)
                    if let value = field.defaultValue, !target.values.contains(where: { $0.name == value }) {
                        throw ProtoSchemaError(.invalidOption("default `\(value)` of field `\(field.name)` is not a value of enum \(target.fullName)"),
                                               at: field.location)
                    }
                case let other:
                    throw ProtoSchemaError(.wrongKindOfType(name: name, found: other.kindDescription, usedBy: usedBy), at: field.typeLocation)
                }
            }
            if field.packedOption == true, !(field.cardinality == .repeated && field.type.isPackable) {
                throw ProtoSchemaError(.invalidOption("[packed = true] can only be used on repeated fields of a numeric, bool or enum type"),
                                       at: field.location)
            }
            field.isPacked = field.cardinality == .repeated && field.type.isPackable && (field.packedOption ?? packedByDefault)
            message.fields[position] = field
        }
        for position in message.nestedMessages.indices {
            try resolve(&message.nestedMessages[position], packedByDefault: packedByDefault)
        }
    }

    private func messageName(_ name: String, scope: String, usedBy: String, at location: ProtoSourceLocation) throws(ProtoSchemaError) -> String {
        let symbol = try lookUpType(name, scope: scope, usedBy: usedBy, at: location)
        guard case .message(let message) = symbol else {
            throw ProtoSchemaError(.wrongKindOfType(name: name, found: symbol.kindDescription, usedBy: usedBy), at: location)
        }
        return message.fullName
    }

    /// The message or enum `name` denotes from inside `scope` (a message's or package's full name).
    private func lookUpType(_ name: String, scope: String, usedBy: String, at location: ProtoSourceLocation) throws(ProtoSchemaError) -> ProtoSymbol {
        if name.hasPrefix(".") {
            let fullName = String(name.dropFirst())
            guard let symbol = visibleSymbol(fullName), isType(symbol) else { throw unknown(name, usedBy: usedBy, at: location) }
            return symbol
        }
        let firstPart = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
        let isCompound = firstPart != name
        var scopeParts = scope.split(separator: ".").map(String.init)
        var nonType: ProtoSymbol?
        while true {
            let prefix = scopeParts.joined(separator: ".")
            let candidate = prefix.isEmpty ? firstPart : prefix + "." + firstPart
            if let found = visibleSymbol(candidate) {
                if !isCompound, isType(found) { return found }
                if !isCompound, nonType == nil, case .service = found { nonType = found }
                if isCompound, isAggregate(found) {
                    let fullName = (prefix.isEmpty ? "" : prefix + ".") + name
                    guard let symbol = visibleSymbol(fullName), isType(symbol) else {
                        throw ProtoSchemaError(.unknownType(name: name, usedBy: usedBy + " (`\(firstPart)` resolved to `\(candidate)`, which has no `\(name.dropFirst(firstPart.count + 1))`)",
                                                            suggestion: nil), at: location)
                    }
                    return symbol
                }
            }
            if scopeParts.isEmpty { break }
            scopeParts.removeLast()
        }
        if let nonType {
            throw ProtoSchemaError(.wrongKindOfType(name: name, found: nonType.kindDescription, usedBy: usedBy), at: location)
        }
        throw unknown(name, usedBy: usedBy, at: location)
    }

    /// A symbol, if the file being resolved can see it (packages are visible everywhere).
    private func visibleSymbol(_ fullName: String) -> ProtoSymbol? {
        guard let symbol = table.symbols[fullName] else { return nil }
        if case .package = symbol { return symbol }
        guard let file = table.fileOfSymbol[fullName], visibleFiles.contains(file) else { return nil }
        return symbol
    }

    private func isType(_ symbol: ProtoSymbol) -> Bool {
        switch symbol {
        case .message, .enum: true
        default: false
        }
    }

    private func isAggregate(_ symbol: ProtoSymbol) -> Bool {
        switch symbol {
        case .package, .message, .enum, .service: true
        case .method: false
        }
    }

    private func unknown(_ name: String, usedBy: String, at location: ProtoSourceLocation) -> ProtoSchemaError {
        ProtoSchemaError(.unknownType(name: name, usedBy: usedBy, suggestion: suggestion(for: name)), at: location)
    }

    /// The visible type whose last name part is closest to `name`'s (at most 2 edits, and fewer than its length).
    private func suggestion(for name: String) -> String? {
        let wanted = Array(name.split(separator: ".").last.map(String.init) ?? name)
        var best: (distance: Int, name: String)?
        for (fullName, symbol) in table.symbols.sorted(by: { $0.key < $1.key }) where isType(symbol) && visibleSymbol(fullName) != nil {
            let candidate = fullName.split(separator: ".").last.map(String.init) ?? fullName
            let distance = Self.editDistance(wanted, Array(candidate))
            if distance <= 2, distance < wanted.count, distance < (best?.distance ?? Int.max) {
                best = (distance, candidate)
            }
        }
        return best?.name
    }

    /// Levenshtein distance.
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
