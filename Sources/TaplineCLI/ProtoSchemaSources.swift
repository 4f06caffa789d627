import Foundation
import TaplineGRPCReflection
import TaplineProtobuf

/// The schema options `proto decode`, `proto encode`, `show` and `export` share:
/// `--proto PATH...`, `--proto-path DIR...`, `--descriptor-set FILE...` and, for the
/// `proto` commands, `--reflect URL`, loaded into one `ProtoSchema` (a file two sources
/// hold is taken once: from the `.proto` files first, then the descriptor sets, then the
/// server's reflection).
struct ProtoSchemaSources {
    static let usage = """
    \(fileUsage)
    \(ProtoReflectionOptions.usage)
    """

    /// The options of `optional(taking:)`: the schema from files only (no `--reflect`).
    static let fileUsage = """
      --proto PATH            a .proto file, or a directory of them (searched recursively); repeatable
      --proto-path DIR        a root that imports are relative to, like protoc's -I; repeatable
      --descriptor-set FILE   a binary FileDescriptorSet (protoc -o / --descriptor_set_out, buf build -o); repeatable
    """

    var protoPaths: [String]
    var importRoots: [String]
    var descriptorSets: [String]
    var reflection: ProtoReflectionOptions?

    /// Takes the options from `arguments`; at least one source must be given.
    init(taking arguments: inout CommandArguments) throws(UsageError) {
        protoPaths = arguments.values("--proto")
        importRoots = arguments.values("--proto-path")
        descriptorSets = arguments.values("--descriptor-set")
        reflection = try ProtoReflectionOptions(taking: &arguments)
        guard !protoPaths.isEmpty || !descriptorSets.isEmpty || reflection != nil else {
            throw UsageError("give the schema with --proto PATH or --descriptor-set FILE, or ask a server with --reflect URL")
        }
    }

    private init(protoPaths: [String], importRoots: [String], descriptorSets: [String], reflection: ProtoReflectionOptions?) {
        self.protoPaths = protoPaths
        self.importRoots = importRoots
        self.descriptorSets = descriptorSets
        self.reflection = reflection
    }

    /// Takes the options from `arguments` for a command where the schema is optional
    /// (`show`, `export`, `diff`, `mock`, `replay`); nil when none is given.
    /// - Parameter reflection: the command's own `--reflect` (`replay`, whose `--insecure`,
    ///   `--upstream-ca` and `--timeout` are its own and go with it too).
    /// - Throws: `--proto-path` without a source to resolve imports for.
    static func optional(taking arguments: inout CommandArguments,
                         reflection: ProtoReflectionOptions? = nil) throws(UsageError) -> ProtoSchemaSources? {
        let protoPaths = arguments.values("--proto")
        let importRoots = arguments.values("--proto-path")
        let descriptorSets = arguments.values("--descriptor-set")
        guard !protoPaths.isEmpty || !descriptorSets.isEmpty || reflection != nil else {
            if !importRoots.isEmpty { throw UsageError("--proto-path needs --proto PATH (it only says where imports are)") }
            return nil
        }
        return ProtoSchemaSources(protoPaths: protoPaths, importRoots: importRoots, descriptorSets: descriptorSets,
                                  reflection: reflection)
    }

    /// grpcurl's options for the same schema, for a call to `service`: `-import-path` for
    /// every import root and `-proto` for the file defining the service when a `.proto`
    /// source holds it, else `-protoset` for each descriptor set. Words, not yet quoted.
    func grpcurlArguments(service: String, schema: ProtoSchema) -> [String] {
        var loader = ProtoFileLoader(importRoots: importRoots)
        _ = try? loader.fileNames(for: protoPaths)  // adds the roots `load` added
        if let file = schema.fileName(definingSymbol: service),
           loader.importRoots.contains(where: { FileManager.default.fileExists(atPath: $0 + "/" + file) }) {
            return loader.importRoots.flatMap { ["-import-path", $0] } + ["-proto", file]
        }
        return descriptorSets.flatMap { ["-protoset", $0] }
    }

    /// The schema of `--proto` and `--descriptor-set` alone (`show`, `export`: no `--reflect`).
    func load() throws(ProtoSchemaError) -> ProtoSchema {
        var seen = Set<String>()
        return try ProtoSchema(files: localFiles().filter { seen.insert($0.name).inserted })
    }

    /// - Parameter symbol: what the command needs (a message type): all `--reflect` asks the server for.
    func load(symbol: String) throws(ProtoSchemaLoadFailure) -> ProtoSchema {
        var files: [ProtoFile]
        do {
            files = try localFiles()
        } catch {
            throw .schema(error)
        }
        if let reflection {
            do {
                files += try reflection.fetch(.symbol(symbol)).schema.files
            } catch {
                throw .reflection(error)
            }
        }
        var seen = Set<String>()
        do {
            return try ProtoSchema(files: files.filter { seen.insert($0.name).inserted })
        } catch {
            throw .schema(error)
        }
    }

    /// The files of `--proto` and `--descriptor-set`, in that order (a file may appear twice).
    func files() throws(ProtoSchemaError) -> [ProtoFile] { try localFiles() }

    /// The files of `--proto` and `--descriptor-set`.
    private func localFiles() throws(ProtoSchemaError) -> [ProtoFile] {
        var loader = ProtoFileLoader(importRoots: importRoots)
        let requested = try loader.fileNames(for: protoPaths)
        var files = try loader.files(fileNames: requested)
        for path in descriptorSets {
            files += try loader.descriptorSetFiles(atPath: path)
        }
        return files
    }
}
