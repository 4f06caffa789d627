import Foundation
import TaplineFlow

/// A capture session read back from its directory: metadata, connections,
/// flows assembled from events.jsonl, and the problems met while reading.
///
/// The reader is tolerant (see docs/capture-format.md, "Reading"): a torn last
/// line, corrupt lines and unknown event types are skipped and reported in
/// `warnings`; only a missing/foreign session.json (`notASession`), a newer
/// major version (`unsupportedVersion`) or an unreadable events.jsonl are errors.
/// Bodies are not loaded: each `CapturedBody` streams from the segment files.
/// A value type; reading is done entirely in `open` on the caller's thread.
public struct CapturedSession: Sendable {
    public let directory: String
    public let metadata: SessionMetadata
    /// Flows in id order.
    public let flows: [CapturedFlow]
    /// Connections in id order.
    public let connections: [CapturedConnection]
    /// What the reader skipped or noticed, one sentence each, prefixed by the file (and line).
    public let warnings: [String]
    /// Session-wide `extension` lines (without a flow), by name; the last of a name wins.
    /// E.g. `har`: the log-level fields of an imported HAR (`HARRecordedLog`).
    public let extensions: [String: CaptureJSONValue]

    public var id: String { metadata.id }
    /// False when session.json says `"ended": null` (proxy killed, or still running).
    public var isClosed: Bool { metadata.isClosed }
    /// True when the session was not closed and its writer (a running proxy) still
    /// holds `writer.lock`: what was read is what was written so far, not damage.
    public let isBeingWritten: Bool

    init(directory: String, metadata: SessionMetadata, flows: [CapturedFlow],
         connections: [CapturedConnection], warnings: [String], isBeingWritten: Bool,
         extensions: [String: CaptureJSONValue] = [:]) {
        self.directory = directory
        self.metadata = metadata
        self.flows = flows
        self.connections = connections
        self.warnings = warnings
        self.extensions = extensions
        self.isBeingWritten = isBeingWritten
    }

    /// Reads the session in `directory`.
    ///
    /// - Throws: `notASession` (no session.json, or not ours), `unsupportedVersion`
    ///   (a major version newer than this build), `corrupt` (session.json unreadable),
    ///   `cannotRead` (events.jsonl exists but cannot be read).
    public static func open(directory: String) throws(CaptureError) -> CapturedSession {
        let metadata = try SessionMetadata.read(directory: directory)
        var assembler = CapturedSessionAssembler(directory: directory)
        let isBeingWritten = try readEvents(directory: directory, metadata: metadata, into: &assembler) { number, _, line, assembler in
            assembler.apply(bytes: line, number: number)
        }
        return assembler.finish(metadata: metadata, isBeingWritten: isBeingWritten)
    }

    /// Reads events.jsonl line by line into `onLine` (number, byte offset, line: the reader's
    /// bytes, valid during the call, `CaptureLineReader`), with the
    /// warnings every reader gives (a session not closed, a torn last line, a missing
    /// events.jsonl, a writer error); returns whether a running writer still holds the session.
    static func readEvents(directory: String, metadata: SessionMetadata, into assembler: inout CapturedSessionAssembler,
                           onLine: (Int, UInt64, UnsafeBufferPointer<UInt8>, inout CapturedSessionAssembler) -> Void) throws(CaptureError) -> Bool {
        // Only an unclosed session has a writer worth asking about (docs/capture-format.md, writer.lock).
        let writer = metadata.isClosed ? nil : SessionWriterLock.writerState(directory: directory)
        switch writer {
        case nil, .alive?: break  // still being written is not a problem: the caller says it
        case .gone?:
            assembler.warn("session.json: session was not closed (the proxy was killed); showing what was written")
        case .unknown?:
            assembler.warn("session.json: session was not closed (proxy killed, or still running?); showing what was written")
        }
        let eventsPath = directory + "/events.jsonl"
        if FileManager.default.fileExists(atPath: eventsPath) {
            var torn = false
            try CaptureLineReader.forEachLine(path: eventsPath,
                onLineAt: { number, offset, line in onLine(number, offset, line, &assembler) },
                onTornLine: { _ in torn = true })
            // While the writer runs, a last line without its newline is one being written.
            if torn, writer != .alive {
                assembler.warn("events.jsonl: last line is incomplete (session was not closed cleanly); ignored")
            }
        } else {
            assembler.warn("events.jsonl: missing; the session has no events")
        }
        if let error = metadata.writerError {
            assembler.warn("session.json: the writer stopped after an error, the capture is incomplete: \(error)")
        }
        return writer == .alive
    }

    /// The flow with id `number`, if the session has it.
    public func flow(_ number: UInt64) -> CapturedFlow? {
        var low = 0, high = flows.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let id = flows[middle].id.rawValue
            if id == number { return flows[middle] }
            if id < number { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}
