/// What `HARImporter` made: the new capture session and what it noticed.
public struct HARImportResult: Sendable {
    public var sessionID: String
    public var directory: String
    public var entries: Int
    public var warnings: [String]
}
