import Foundation
import Glibc
import TaplineCapture
import TaplineFlow
import TaplineWire

/// Writes captured flows as a HAR 1.2 file, one entry at a time: the output
/// is streamed to the descriptor as each entry is made, so a session of any
/// length costs the memory of one entry (bodies up to `bodyLimit` each).
/// Deterministic: the same sessions give byte-identical files. Runs on the
/// caller's thread.
public struct HARExporter {
    public var bodyLimit = 64 << 20
    public var creatorVersion: String
    public let messages: @Sendable (CapturedFlow) -> [FlowMessage]
    /// Reads gRPC calls as messages for `_grpc` and `_grpcMessages` (docs/export.md);
    /// give it the schema to have the messages decoded by type, else they are raw.
    public var grpcCalls = GRPCCallReader(decoder: GRPCCallDecoder(schema: nil))

    public init(creatorVersion: String, messages: @escaping @Sendable (CapturedFlow) -> [FlowMessage] = FlowMessage.captured) {
        self.creatorVersion = creatorVersion
        self.messages = messages
    }

    /// Writes the HAR for `flows` to `descriptor`; returns how many entries were written and
    /// which bodies the limit cut (each such body also says so in its `comment`).
    /// `session`, when given, is where the flows come from: if it was imported from a HAR,
    /// the log fields it recorded (`pages`, `browser`, `comment`, custom fields) are
    /// written back, and its `comment` replaces `comment`.
    /// - Throws: `capture` when a body cannot be read, `cannotWrite` when the output fails.
    @discardableResult
    public func write(_ flows: [CapturedFlow], comment: String, session: CapturedSession? = nil,
                      to descriptor: Int32, path: String) throws(ExportError) -> HARExportResult {
        let recorded = session.flatMap(HARRecordedLog.init(session:))
        let others = recorded?.otherMembers ?? []
        var writer = JSONWriter(indent: "  ")
        writer.raw("{\n  \"log\": {\n    \"version\": \"1.2\",\n    \"creator\": ")
        writer.write(.object([JSONMember("name", .string("tapline")), JSONMember("version", .string(creatorVersion))]), level: 2)
        if !others.contains(where: { $0.key == "comment" }) {
            writer.raw(",\n    \"comment\": ")
            writer.string(comment)
        }
        if let pages = recorded.map({ $0.pages }) ?? .array([]) {
            // An imported HAR without pages (they are optional) stays without.
            writer.raw(",\n    \"pages\": ")
            writer.write(pages, level: 2)
        }
        for member in others {
            writer.raw(",\n    ")
            writer.string(member.key)
            writer.raw(": ")
            writer.write(member.value, level: 2)
        }
        writer.raw(",\n    \"entries\": [")
        try flush(&writer, descriptor, path)
        let builder = HAREntryBuilder(bodyLimit: bodyLimit, messages: messages, grpcCalls: grpcCalls)
        var count = 0
        var bodiesOverLimit: [String] = []
        for flow in flows {
            let entry: JSONValue?
            do throws(CaptureError) {
                entry = try builder.entry(flow, bodiesOverLimit: &bodiesOverLimit)
            } catch {
                throw .capture(error)
            }
            guard let entry else { continue }
            if count > 0 { writer.raw(",") }
            writer.newline(level: 3)
            writer.write(entry, level: 3)
            count += 1
            try flush(&writer, descriptor, path)
        }
        if count > 0 { writer.newline(level: 2) }
        writer.raw("]\n  }\n}\n")
        try flush(&writer, descriptor, path)
        return HARExportResult(entries: count, bodiesOverLimit: bodiesOverLimit)
    }

    private func flush(_ writer: inout JSONWriter, _ descriptor: Int32, _ path: String) throws(ExportError) {
        try FileDescriptorOutput.writeAll(writer.take(), to: descriptor, path: path)
    }
}
