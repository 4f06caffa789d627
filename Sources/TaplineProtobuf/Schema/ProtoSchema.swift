/// A set of `.proto` files with every type name resolved: the registry the rest of
/// Tapline asks for messages, enums and services by full name.
///
/// Names resolve as protoc resolves them: a name with a leading dot is absolute; a
/// relative name is searched from the innermost scope (the message using it) outward
/// to the package's parents and the root. For a dotted name (`Order.Item`) the first
/// part is searched that way and the rest must follow from the first match. Only types
/// from the file itself, the files it imports, and the files those re-export with
/// `import public` are visible.
///
/// Immutable once built; safe to share between threads.
public struct ProtoSchema: Sendable {
    /// The files, each after the files it imports (protoc's `--include_imports` order).
    public let files: [ProtoFile]
    private let symbols: [String: ProtoSymbol]
    private let fileOfSymbol: [String: String]

    /// Resolves `files` (given in any order, every import present) into a schema.
    public init(files unordered: [ProtoFile]) throws(ProtoSchemaError) {
        let ordered = try Self.dependencyOrder(unordered)
        var table = ProtoSymbolTable()
        for file in ordered {
            try table.add(file)
        }
        var resolved: [ProtoFile] = []
        for file in ordered {
            let visible = Self.visibleFiles(of: file, in: ordered)
            let resolver = ProtoTypeResolver(table: table, visibleFiles: visible)
            resolved.append(try resolver.resolve(file))
        }
        var final = ProtoSymbolTable()
        for file in resolved {
            try final.add(file)
        }
        files = resolved
        symbols = final.symbols
        fileOfSymbol = final.fileOfSymbol
    }

    /// The symbol with this full name (a leading dot is allowed): package, message, enum, service, or `Service.Method`.
    public func symbol(named name: String) -> ProtoSymbol? {
        let fullName = name.hasPrefix(".") ? String(name.dropFirst()) : name
        if let symbol = symbols[fullName] { return symbol }
        guard let dot = fullName.lastIndex(of: "."),
              case .service(let service)? = symbols[String(fullName[..<dot])],
              let method = service.methods.first(where: { $0.name == fullName[fullName.index(after: dot)...] }) else { return nil }
        return .method(method, service: service)
    }

    public func message(named name: String) -> ProtoMessage? {
        if case .message(let message)? = symbol(named: name) { return message }
        return nil
    }

    public func enumeration(named name: String) -> ProtoEnum? {
        if case .enum(let enumeration)? = symbol(named: name) { return enumeration }
        return nil
    }

    public func service(named name: String) -> ProtoService? {
        if case .service(let service)? = symbol(named: name) { return service }
        return nil
    }

    public func file(named name: String) -> ProtoFile? { files.first { $0.name == name } }

    /// The import name of the file defining this message, enum or service.
    public func fileName(definingSymbol name: String) -> String? {
        fileOfSymbol[name.hasPrefix(".") ? String(name.dropFirst()) : name]
    }

    /// `files` reordered so each comes after its imports (depth first, in import order).
    private static func dependencyOrder(_ files: [ProtoFile]) throws(ProtoSchemaError) -> [ProtoFile] {
        var byName: [String: ProtoFile] = [:]
        for file in files { byName[file.name] = file }
        var ordered: [ProtoFile] = []
        var done = Set<String>()
        var path: [String] = []
        /// `importedAt`: the import line that led here, where a cycle is reported.
        func visit(_ file: ProtoFile, importedAt: ProtoSourceLocation?) throws(ProtoSchemaError) {
            if done.contains(file.name) { return }
            if let start = path.firstIndex(of: file.name) {
                throw ProtoSchemaError(.importCycle(Array(path[start...]) + [file.name]), at: importedAt)
            }
            path.append(file.name)
            for dependency in file.imports {
                guard let imported = byName[dependency.path] else {
                    throw ProtoSchemaError(.importNotFound(path: dependency.path, roots: []), at: dependency.location)
                }
                try visit(imported, importedAt: dependency.location)
            }
            path.removeLast()
            done.insert(file.name)
            ordered.append(file)
        }
        for file in files { try visit(file, importedAt: nil) }
        return ordered
    }

    /// The file itself, its imports, and what those re-export with `import public` (transitively).
    private static func visibleFiles(of file: ProtoFile, in files: [ProtoFile]) -> Set<String> {
        let byName = Dictionary(files.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var visible: Set<String> = [file.name]
        var pending = file.imports.map(\.path)
        while let name = pending.popLast() {
            guard visible.insert(name).inserted, let imported = byName[name] else { continue }
            pending += imported.imports.filter { $0.kind == .public }.map(\.path)
        }
        return visible
    }
}
