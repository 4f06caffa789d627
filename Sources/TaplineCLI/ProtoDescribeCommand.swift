import TaplineExport
import TaplineGRPCReflection
import TaplineProtobuf
import TaplineWire

/// `tapline proto describe (--proto PATH... [--proto-path DIR...] | --reflect URL) [--json] [SYMBOL]`:
/// loads `.proto` files with Tapline's own parser, or asks a server's gRPC reflection,
/// and prints what they define, like `grpcurl describe` (docs/grpc.md, "Schemas").
/// Exit codes: 0 printed, 2 usage error, a file that cannot be read, parsed or resolved
/// (`file:line:column: ...`), a server whose reflection gives no schema, or a SYMBOL the
/// schema does not define.
enum ProtoDescribeCommand {
    static let usage = """
    usage: tapline proto describe (--proto PATH... [--proto-path DIR...] | --reflect URL [--insecure]
                                  [--upstream-ca FILE] [--timeout SECONDS]) [--json] [SYMBOL]

    Prints the services, messages and enums the .proto files (or the server's reflection) define
    (or only SYMBOL, a full name such as shop.v1.Orders, shop.v1.Orders.Get or shop.v1.Order), as
    Tapline decodes with them.
    The google/protobuf well-known types (timestamp, duration, any, struct, wrappers,
    field_mask, empty, descriptor) are built in.

    options:
      --proto PATH            a .proto file, or a directory of them (searched recursively); repeatable
      --proto-path DIR        a root that imports are relative to, like protoc's -I; repeatable.
                              A --proto path under no root adds its directory as one.
    \(ProtoReflectionOptions.usage)
      --json                  the files and all they import as JSON in the shape of a
                              google.protobuf.FileDescriptorSet (protoc --include_imports -o, as proto3 JSON)
      --help                  this text

    exit status: 0 printed, 2 usage error, a file that cannot be read, parsed or resolved, or a server
    whose reflection gives no schema (not served, unreachable, timed out).
    """

    static func run(_ arguments: [String]) -> Int32 {
        var args = CommandArguments(arguments)
        if args.flag("--help") || args.flag("-h") {
            print(usage)
            return 0
        }
        let protoPaths: [String]
        let importRoots: [String]
        let reflection: ProtoReflectionOptions?
        let json: Bool
        let symbolName: String?
        do {
            protoPaths = args.values("--proto")
            importRoots = args.values("--proto-path")
            reflection = try ProtoReflectionOptions(taking: &args)
            json = args.flag("--json")
            let positionals = args.positionals()
            try args.finish()
            guard !protoPaths.isEmpty || reflection != nil else {
                throw UsageError("give the schema with --proto PATH (a .proto file or a directory) or --reflect URL")
            }
            guard protoPaths.isEmpty || reflection == nil else { throw UsageError("give --proto or --reflect, not both") }
            guard positionals.count <= 1 else {
                throw UsageError("describe takes at most one SYMBOL; \(positionals.count) given")
            }
            symbolName = positionals.first
        } catch {
            StandardError.writeLine("tapline proto describe: \(error)\n\n\(usage)")
            return 2
        }

        let loaded: (schema: ProtoSchema, rootFiles: [String])
        do {
            if let reflection {
                let result = try reflection.fetch(symbolName.map { .symbol($0) } ?? .allServices)
                for service in result.servicesWithoutDescriptors {
                    StandardError.writeLine("tapline proto describe: note: \(reflection.upstream) lists \(service) but gives no descriptor for it")
                }
                loaded = (result.schema, result.rootFiles)
            } else {
                var loader = ProtoFileLoader(importRoots: importRoots)
                let requested = try loader.fileNames(for: protoPaths)
                guard !requested.isEmpty else {
                    StandardError.writeLine("tapline proto describe: no .proto files in \(protoPaths.joined(separator: ", "))")
                    return 2
                }
                loaded = (try loader.schema(fileNames: requested), requested)
            }
        } catch {
            StandardError.writeLine("tapline proto describe: \(error)")
            return 2
        }
        let (schema, requested) = loaded

        var rootFiles = requested
        var symbol: ProtoSymbol?
        if let symbolName {
            guard let found = schema.symbol(named: symbolName) else {
                StandardError.writeLine("tapline proto describe: \(symbolName) is not defined in the loaded files (give its full name, e.g. package.Service)")
                return 2
            }
            symbol = found
            if let file = schema.fileName(definingSymbol: symbolName) ?? definingFile(of: found, in: schema) { rootFiles = [file] }
        }
        if json {
            print(JSONWriter.text(ProtoDescriptorSetJSON.value(of: schema, rootFiles: rootFiles)))
        } else if let symbol, let symbolName {
            print(ProtoDescribeText.lines(describing: symbol, named: symbolName.hasPrefix(".") ? String(symbolName.dropFirst()) : symbolName)
                .joined(separator: "\n"))
        } else {
            print(ProtoDescribeText.lines(describingFiles: requested, of: schema).joined(separator: "\n"))
        }
        return 0
    }

    /// For a method, the file of its service.
    private static func definingFile(of symbol: ProtoSymbol, in schema: ProtoSchema) -> String? {
        if case .method(_, let service) = symbol { return schema.fileName(definingSymbol: service.fullName) }
        return nil
    }
}
