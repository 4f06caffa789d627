import Foundation
import TaplineProtobuf

/// What `proto decode` and `proto encode` share: a schema (`ProtoSchemaSources`), the
/// message type (`--type`, by full name) and one FILE, standard input for none or `-`.
///
/// Parsing takes these from the arguments and finishes them, so a command takes its own
/// flags first. Loading and reading print why they failed (prefixed `tapline proto
/// <command>:`) and return nil; the command maps that to its exit code.
struct ProtoMessageCommandInput {
    let sources: ProtoSchemaSources
    /// The message type's full name, e.g. `package.Message`.
    let typeName: String
    /// The FILE argument; nil (or `-`) reads standard input.
    let file: String?

    /// Takes the schema options, `--type` and at most one FILE, then rejects anything left over.
    init(taking arguments: inout CommandArguments) throws(UsageError) {
        sources = try ProtoSchemaSources(taking: &arguments)
        guard let name = try arguments.value("--type") else { throw UsageError("give the message type with --type pkg.Message") }
        typeName = name
        let files = arguments.positionals()
        try arguments.finish()
        if files.count > 1 { throw UsageError("give at most one FILE (got \(files.count))") }
        file = files.first
    }

    /// The loaded schema, which defines `typeName`; nil after printing why not (exit code 2).
    func schema(command: String) -> ProtoSchema? {
        let schema: ProtoSchema
        do {
            schema = try sources.load(symbol: typeName)
        } catch {
            StandardError.writeLine("tapline proto \(command): \(error)")
            return nil
        }
        guard schema.message(named: typeName) != nil else {
            StandardError.writeLine("tapline proto \(command): message type \(typeName) is not defined in the loaded schema (give its full name, e.g. package.Message)")
            return nil
        }
        return schema
    }

    /// FILE's bytes, or standard input's; nil after printing that FILE cannot be read (exit code 1).
    func bytes(command: String) -> [UInt8]? {
        guard let file, file != "-" else { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: file) else {
            StandardError.writeLine("tapline proto \(command): cannot read \(file)")
            return nil
        }
        return [UInt8](data)
    }
}
