import Foundation
import TaplineFlow

/// The capture sessions under one root directory (`--capture DIR`, default
/// `./captures`): listing them and resolving what a user typed (an id, a unique
/// id prefix, `latest`, or a path) to a session directory.
///
/// Directories without session.json are not sessions and are skipped silently;
/// sessions whose session.json is unreadable or newer than this build are
/// skipped with a warning. A value type; all work happens on the caller's thread.
public struct SessionCatalog: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// The sessions, oldest first (newest last), and warnings about skipped ones.
    /// A missing root is an empty catalog, not an error.
    public func list() -> (sessions: [SessionSummary], warnings: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return ([], []) }
        var sessions: [SessionSummary] = []
        var warnings: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let directory = root + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
                  FileManager.default.fileExists(atPath: directory + "/session.json") else { continue }
            do {
                sessions.append(try Self.summary(directory: directory))
            } catch {
                warnings.append("skipped \(directory): \(error)")
            }
        }
        sessions.sort { ($0.started, $0.id) < ($1.started, $1.id) }
        return (sessions, warnings)
    }

    /// The directory of the session `reference` names: a path to a session
    /// directory, `latest`, an exact id, or a prefix of exactly one id.
    ///
    /// - Throws: `sessionNotFound`, `ambiguousSession` (with the candidates), or
    ///   the errors of reading the session a path points at.
    public func resolve(_ reference: String) throws(CaptureError) -> String {
        var isDirectory: ObjCBool = false
        if reference.contains("/") || reference == "." || reference == ".." {
            guard FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .sessionNotFound(reference)
            }
            return reference
        }
        let sessions = list().sessions
        if reference == "latest" {
            guard let newest = sessions.last else { throw .sessionNotFound("latest (no sessions in \(root))") }
            return newest.directory
        }
        if let exact = sessions.first(where: { $0.id == reference }) { return exact.directory }
        let matches = sessions.filter { $0.id.hasPrefix(reference) }
        if matches.count == 1 { return matches[0].directory }
        if matches.count > 1 { throw .ambiguousSession(reference, matches: matches.map(\.id)) }
        // A directory name relative to the working directory (e.g. a copied session).
        if FileManager.default.fileExists(atPath: reference + "/session.json") { return reference }
        throw .sessionNotFound(reference)
    }

    /// The summary of one session directory, without assembling its flows.
    public static func summary(directory: String) throws(CaptureError) -> SessionSummary {
        let metadata = try SessionMetadata.read(directory: directory)
        var flows = metadata.stats?.flows ?? 0
        if metadata.stats == nil {
            flows = (try? countFlowStarts(path: directory + "/events.jsonl")) ?? 0
        }
        var summary = SessionSummary(id: metadata.id, directory: directory, started: metadata.started, ended: metadata.ended,
                                     flows: flows, bytes: diskBytes(directory), tapline: metadata.tapline)
        summary.command = metadata.command
        summary.proxy = metadata.proxy
        summary.isBeingWritten = !metadata.isClosed && SessionWriterLock.writerState(directory: directory) == .alive
        return summary
    }

    /// Counts `flowStarted` lines by looking at each line's head only ("type" is
    /// always the second key), without parsing JSON.
    static func countFlowStarts(path: String) throws(CaptureError) -> UInt64 {
        let needle = Array(#""type":"flowStarted""#.utf8)
        var count: UInt64 = 0
        try CaptureLineReader.forEachLine(path: path, onLine: { _, line in
            let head = line.prefix(64)
            guard head.count >= needle.count else { return }
            var index = head.startIndex
            while index + needle.count <= head.endIndex {
                if head[index] == needle[0] && head[index..<index + needle.count].elementsEqual(needle) {
                    count += 1
                    return
                }
                index += 1
            }
        }, onTornLine: { _ in })
        return count
    }

    /// Sum of the sizes of the regular files in the session directory and its bodies/.
    static func diskBytes(_ directory: String) -> UInt64 {
        var total: UInt64 = 0
        for folder in [directory, directory + "/bodies"] {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names {
                var info = stat()
                if stat(folder + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
                    total += UInt64(info.st_size)
                }
            }
        }
        return total
    }
}
