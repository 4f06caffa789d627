import Foundation
import TaplineFlow

/// The contents of a session's `session.json`: what the session is, when it
/// started and ended, and how the proxy was configured. A value type.
///
/// `ended == nil` means the writer never closed the session (the proxy was
/// killed or is still running); such a session is still fully readable.
public struct SessionMetadata: Sendable, Equatable {
    /// The `format` value every session.json carries.
    public static let formatName = "tapline-capture"
    /// The newest major format version this build reads (it reads every older one)
    /// and the one it writes. 2: an empty request end and a flow's HTTP/2 stream id
    /// are folded into the lines before them (docs/capture-format.md, "Versions").
    public static let currentVersion = 2

    public var version: Int
    public var id: String
    public var started: Timestamp
    public var ended: Timestamp?
    /// The tapline version that wrote the session.
    public var tapline: String
    /// How the proxy was started (mode, listen, upstream, ...).
    public var proxy: [String: String]
    /// The command `tapline run` ran with this session capturing its traffic (argv,
    /// the program first); nil for a session of `tapline proxy` or an import.
    public var command: [String]?
    /// `--max-body-capture`, if one was set.
    public var maxBodyBytes: UInt64?
    /// Totals written at close; nil for a session that was not closed.
    public var stats: SessionStats?
    /// The first write error the writer hit, if any (the capture is incomplete after it).
    public var writerError: String?
    /// What wrote the session when it was not the proxy: `replay` for `tapline replay`;
    /// nil for a proxy's session and for sessions written before the field existed.
    public var mode: String?
    /// For a replay session: the id of the session whose flows it re-sent.
    public var sourceSession: String?

    public init(version: Int = SessionMetadata.currentVersion, id: String, started: Timestamp,
                ended: Timestamp? = nil, tapline: String, proxy: [String: String],
                command: [String]? = nil, maxBodyBytes: UInt64? = nil, stats: SessionStats? = nil,
                writerError: String? = nil, mode: String? = nil, sourceSession: String? = nil) {
        self.version = version
        self.id = id
        self.started = started
        self.ended = ended
        self.tapline = tapline
        self.proxy = proxy
        self.command = command
        self.maxBodyBytes = maxBodyBytes
        self.stats = stats
        self.writerError = writerError
        self.mode = mode
        self.sourceSession = sourceSession
    }

    /// True once the writer closed the session cleanly.
    public var isClosed: Bool { ended != nil }

    /// The JSON text of session.json (keys in a fixed order, one object, trailing newline).
    func encoded() -> [UInt8] {
        var json = JSONLineBuilder(capacity: 1024)
        json.beginObject()
        json.key("format"); json.string(Self.formatName)
        json.key("version"); json.integer(version)
        json.key("id"); json.string(id)
        json.key("started"); json.string(CaptureTimeFormat.iso8601(started))
        json.key("ended")
        if let ended { json.string(CaptureTimeFormat.iso8601(ended)) } else { json.null() }
        json.key("tapline"); json.string(tapline)
        json.key("proxy")
        json.beginObject()
        for (name, value) in proxy.sorted(by: { $0.key < $1.key }) {
            json.key(dynamic: name); json.string(value)
        }
        json.endObject()
        if let command {
            json.key("command")
            json.beginArray()
            for argument in command { json.element(); json.string(argument) }
            json.endArray()
        }
        json.key("maxBodyBytes")
        if let maxBodyBytes { json.integer(maxBodyBytes) } else { json.null() }
        if let stats {
            json.key("stats")
            json.beginObject()
            json.key("flows"); json.integer(stats.flows)
            json.key("connections"); json.integer(stats.connections)
            json.key("events"); json.integer(stats.events)
            json.key("bodyBytesStored"); json.integer(stats.bodyBytesStored)
            json.endObject()
        }
        if let writerError {
            json.key("writerError"); json.string(writerError)
        }
        if let mode {
            json.key("mode"); json.string(mode)
        }
        if let sourceSession {
            json.key("sourceSession"); json.string(sourceSession)
        }
        json.endObject()
        json.newline()
        return json.bytes
    }

    /// Reads and validates `<directory>/session.json`.
    ///
    /// - Throws: `notASession` when the file is missing or its `format` is not
    ///   `tapline-capture`; `unsupportedVersion` for a major version above
    ///   `currentVersion`; `corrupt` when it is not valid JSON or lacks a field.
    public static func read(directory: String) throws(CaptureError) -> SessionMetadata {
        let path = directory + "/session.json"
        guard FileManager.default.fileExists(atPath: path) else { throw .notASession(path: directory) }
        let bytes = try CaptureFile.readSmallFile(path)
        let parsed: CaptureJSONValue
        do {
            parsed = try CaptureJSONParser.parse(bytes)
        } catch {
            throw .corrupt(path: path, line: 1, reason: "not a JSON object (\(error))")
        }
        guard let json = CaptureJSONObject(parsed) else { throw .corrupt(path: path, line: 1, reason: "not a JSON object") }
        guard json.string("format") == formatName else { throw .notASession(path: directory) }
        guard let version = json.int64("version") else {
            throw .corrupt(path: path, line: 1, reason: "missing \"version\"")
        }
        guard version <= Int64(currentVersion) else { throw .unsupportedVersion(path: path, version: Int(version)) }
        guard version >= 1 else { throw .corrupt(path: path, line: 1, reason: "version \(version) is not a capture format version") }
        guard let id = json.string("id") else { throw .corrupt(path: path, line: 1, reason: "missing \"id\"") }
        guard let startedText = json.string("started"), let started = CaptureTimeFormat.parseISO8601(startedText) else {
            throw .corrupt(path: path, line: 1, reason: "missing or malformed \"started\" (ISO 8601 UTC expected)")
        }
        let ended = json.string("ended").flatMap(CaptureTimeFormat.parseISO8601)
        var proxy: [String: String] = [:]
        if let object = json.object("proxy") {
            // Tapline writes strings only; anything else (hand-edited) shows as its JSON text.
            for (key, value) in object.members { proxy[key] = value.stringValue ?? value.jsonText }
        }
        // Tapline writes strings only; a hand-edited non-string element shows as its JSON text.
        let command = json.array("command")?.map { $0.stringValue ?? $0.jsonText }
        var stats: SessionStats?
        if let object = json.object("stats") {
            stats = SessionStats(flows: object.uint64("flows") ?? 0, connections: object.uint64("connections") ?? 0,
                                 events: object.uint64("events") ?? 0,
                                 bodyBytesStored: object.uint64("bodyBytesStored") ?? 0)
        }
        return SessionMetadata(version: Int(version), id: id, started: started, ended: ended,
                               tapline: json.string("tapline") ?? "unknown", proxy: proxy, command: command,
                               maxBodyBytes: json.uint64("maxBodyBytes"), stats: stats,
                               writerError: json.string("writerError"), mode: json.string("mode"),
                               sourceSession: json.string("sourceSession"))
    }
}
