/// Why a session's kept schemas (`schemas/`) could not be read or written.
struct SessionSchemaError: Error, CustomStringConvertible {
    /// The file or directory concerned.
    let path: String
    let reason: String

    var description: String { "\(path): \(reason)" }
}
