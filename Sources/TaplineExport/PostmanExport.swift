/// The result of a Postman export: the collection text and the files to
/// write beside it (binary request bodies), plus what the user should know.
public struct PostmanExport: Sendable {
    /// The collection JSON, tab-indented, ending in a newline; byte-identical for identical input.
    public var text: String
    /// Relative path (under the collection's directory) -> bytes.
    public var files: [String: [UInt8]]
    /// Requests (endpoints) in the collection, folders not counted.
    public var endpointCount: Int
    public var flowCount: Int
    /// Collection variables holding redacted secrets.
    public var secretVariables: [String]
    public var warnings: [String]
}
