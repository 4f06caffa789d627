import Foundation
import Glibc
import TaplineProtobuf

/// The schemas kept with a capture session, in its `schemas/` directory: one binary
/// FileDescriptorSet per source (`reflected-<n>.binpb` per upstream reflection answered,
/// `given.binpb` for `proxy --proto`/`--descriptor-set`) and `index.json`, the list of
/// `SessionSchemaEntry` naming them (docs/capture-format.md, "Schemas"). `show`,
/// `export`, `diff` and `mock` decode gRPC messages with them when no schema flag
/// holds the same file.
///
/// Writing: `add` writes the set, then rewrites the index atomically (a reader sees
/// the old list or the new one). Not thread-safe: one writer at a time (the proxy adds
/// its given schema before it listens, then only its reflection loop adds).
struct SessionSchemaStore {
    static let directoryName = "schemas"
    static let indexName = "index.json"

    /// The session's directory.
    let sessionDirectory: String

    var schemasDirectory: String { sessionDirectory + "/" + Self.directoryName }
    private var indexPath: String { schemasDirectory + "/" + Self.indexName }

    /// The sets listed, in the order they were added; none when the session keeps no schema.
    func entries() throws(SessionSchemaError) -> [SessionSchemaEntry] {
        guard FileManager.default.fileExists(atPath: indexPath) else { return [] }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: indexPath))
            return try JSONDecoder().decode(Index.self, from: data).schemas
        } catch {
            throw SessionSchemaError(path: indexPath, reason: "\(error)")
        }
    }

    /// Keeps `rootFiles` of `schema` (and what they import) as a new set; `name` is the
    /// file name, or `reflected-<n>.binpb` numbered after those listed when nil.
    @discardableResult
    func add(_ schema: ProtoSchema, rootFiles: [String], name: String? = nil,
             describedAs entry: (String) -> SessionSchemaEntry) throws(SessionSchemaError) -> SessionSchemaEntry {
        var listed = try entries()
        let fileName = name ?? "reflected-\(listed.filter { $0.source == .reflection }.count + 1).binpb"
        let added = entry(fileName)
        do {
            try FileManager.default.createDirectory(atPath: schemasDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let bytes = ProtoDescriptorSetBinary.bytes(of: schema, rootFiles: rootFiles)
            try Self.replace(schemasDirectory + "/" + fileName, with: Data(bytes))
            listed.append(added)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try Self.replace(indexPath, with: encoder.encode(Index(version: 1, schemas: listed)))
        } catch let error as SessionSchemaError {
            throw error
        } catch {
            throw SessionSchemaError(path: schemasDirectory, reason: "\(error)")
        }
        return added
    }

    /// Writes `data` to `path` atomically with mode 0600, as every file of a session
    /// (docs/capture-format.md): a temporary file beside it, renamed over it.
    private static func replace(_ path: String, with data: Data) throws(SessionSchemaError) {
        let temporary = path + ".tmp"
        _ = unlink(temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw SessionSchemaError(path: temporary, reason: "cannot create it")
        }
        guard rename(temporary, path) == 0 else {
            throw SessionSchemaError(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// The files of every set listed, in the order listed (a file two sets hold is taken
    /// from the first).
    func files() throws(SessionSchemaError) -> [ProtoFile] {
        var files: [ProtoFile] = []
        var seen = Set<String>()
        let loader = ProtoFileLoader(importRoots: [])
        for entry in try entries() {
            let path = schemasDirectory + "/" + entry.file
            do {
                files += try loader.descriptorSetFiles(atPath: path).filter { seen.insert($0.name).inserted }
            } catch {
                throw SessionSchemaError(path: path, reason: "\(error)")
            }
        }
        return files
    }

    /// The schema a command decodes sessions' gRPC messages with: the files of
    /// `explicit` (`--proto`, `--descriptor-set`) first, then those kept in the sessions
    /// (in the order given) for files not yet held. Kept schemas that do not load, or
    /// clash with the explicit one, are left out with a warning (`warn`); nil when there
    /// is no schema at all.
    /// - Throws: the explicit schema does not load.
    static func decodingSchema(explicit: ProtoSchemaSources?, sessionDirectories: [String],
                               warn: (String) -> Void) throws(ProtoSchemaError) -> ProtoSchema? {
        var seen = Set<String>()
        let given = try (explicit?.files() ?? []).filter { seen.insert($0.name).inserted }
        var kept: [ProtoFile] = []
        for directory in sessionDirectories {
            do {
                kept += try SessionSchemaStore(sessionDirectory: directory).files().filter { seen.insert($0.name).inserted }
            } catch {
                warn("the schemas kept in \(directory) are left out: \(error)")
            }
        }
        guard !kept.isEmpty else { return explicit == nil ? nil : try ProtoSchema(files: given) }
        do {
            return try ProtoSchema(files: given + kept)
        } catch {
            warn("the sessions' kept schemas are left out\(explicit == nil ? "" : " (they clash with the schema given)"): \(error)")
            return explicit == nil ? nil : try ProtoSchema(files: given)
        }
    }

    private struct Index: Codable {
        var version: Int
        var schemas: [SessionSchemaEntry]
    }
}
