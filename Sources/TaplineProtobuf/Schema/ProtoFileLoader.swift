import Foundation

/// Finds, reads and parses `.proto` files and their imports into a `ProtoSchema`: the
/// one part of the schema side that does I/O (`ProtoParser` only sees text).
///
/// An import name is looked up first among the built-in well-known types
/// (`WellKnownProtoFiles`), then under each import root in order, like protoc's `-I`.
/// A file or directory given to `fileNames(for:)` that lies under no root adds a root:
/// a directory becomes one itself, a file's parent directory does.
/// A value type; each call reads the disk afresh.
public struct ProtoFileLoader {
    /// The import roots (`--proto-path`), absolute, in search order.
    public private(set) var importRoots: [String]

    public init(importRoots: [String]) {
        self.importRoots = importRoots.map(Self.normalized)
    }

    /// The import names of `paths` (`--proto` arguments: files, or directories searched
    /// for `*.proto` recursively, in name order), adding a root for each path under none.
    public mutating func fileNames(for paths: [String]) throws(ProtoSchemaError) -> [String] {
        var names: [String] = []
        for path in paths.map(Self.normalized) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ProtoSchemaError(.unreadableFile(path: path, reason: "no such file or directory"), at: nil)
            }
            if isDirectory.boolValue {
                if importName(of: path + "/x.proto") == nil { importRoots.append(path) }
                let found = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".proto") }
                    .sorted()
                for relative in found {
                    guard let name = importName(of: path + "/" + relative) else { continue }
                    names.append(name)
                }
            } else {
                if importName(of: path) == nil { importRoots.append((path as NSString).deletingLastPathComponent) }
                guard let name = importName(of: path) else { throw ProtoSchemaError(.outsideProtoPath(path: path), at: nil) }
                names.append(name)
            }
        }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// Parses the files with these import names and everything they import, and resolves them.
    public func schema(fileNames: [String]) throws(ProtoSchemaError) -> ProtoSchema {
        try ProtoSchema(files: files(fileNames: fileNames))
    }

    /// Reads a binary FileDescriptorSet (`protoc -o`, `buf build -o`) into files for a
    /// `ProtoSchema`, with the built-in well-known types it depends on but lacks.
    public func descriptorSetFiles(atPath path: String) throws(ProtoSchemaError) -> [ProtoFile] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProtoSchemaError(.unreadableFile(path: path, reason: "no such file, or not readable"), at: nil)
        }
        return try ProtoDescriptorSetDecoder.files(decoding: [UInt8](data), name: path)
    }

    /// Parses the files with these import names and everything they import, unresolved
    /// (each after the files that import it; `ProtoSchema` orders them).
    public func files(fileNames: [String]) throws(ProtoSchemaError) -> [ProtoFile] {
        var parsed: [String: ProtoFile] = [:]
        var order: [String] = []
        var pending: [(name: String, importedAt: ProtoSourceLocation?)] = fileNames.reversed().map { ($0, nil) }
        while let (name, importedAt) = pending.popLast() {
            if parsed[name] != nil { continue }
            let text = try self.text(ofImport: name, importedAt: importedAt)
            let file = try ProtoParser.parse(text: text, name: name)
            parsed[name] = file
            order.append(name)
            pending += file.imports.reversed().map { ($0.path, $0.location) }
        }
        return order.compactMap { parsed[$0] }
    }

    private func text(ofImport name: String, importedAt: ProtoSourceLocation?) throws(ProtoSchemaError) -> String {
        if let builtIn = WellKnownProtoFiles.byImportName[name] { return builtIn }
        for root in importRoots {
            let path = (root as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProtoSchemaError(.unreadableFile(path: path, reason: "permission denied or not a regular file"), at: importedAt)
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ProtoSchemaError(.unreadableFile(path: path, reason: "not UTF-8 text"), at: importedAt)
            }
            return text
        }
        throw ProtoSchemaError(.importNotFound(path: name, roots: importRoots), at: importedAt)
    }

    /// `path` relative to the first root containing it, or nil.
    private func importName(of path: String) -> String? {
        for root in importRoots {
            let prefix = root == "/" ? "/" : root + "/"
            if path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
        }
        return nil
    }

    /// The absolute path without `.` and `..` segments or trailing slashes, so a file named
    /// relative to the working directory and one named absolutely get the same import name.
    private static func normalized(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
