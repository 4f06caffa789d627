import Foundation

/// The one input of the `proto` subcommands that read a message: a FILE, or standard input
/// for none or `-`.
enum ProtoCommandInput {
    /// The bytes, or nil after printing why FILE cannot be read.
    static func read(_ path: String?, command: String) -> [UInt8]? {
        guard let path, path != "-" else { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: path) else {
            StandardError.writeLine("tapline proto \(command): cannot read \(path)")
            return nil
        }
        return [UInt8](data)
    }
}
