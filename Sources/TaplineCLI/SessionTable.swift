import Foundation
import TaplineCapture
import TaplineExport
import TaplineFlow
import TaplineWire

/// Renders a session listing for `tapline sessions`: an aligned table (newest
/// last) or JSON. Pure: returns text, prints nothing.
enum SessionTable {
    /// A LISTENERS column (`ProxyListenersText.all`) is added when a listed session had more than
    /// one listener (SOCKS5, transparent) or was `tapline run`'s, and a COMMAND column
    /// (what `tapline run` ran) when a listed session has one.
    static func lines(_ sessions: [SessionSummary], style: TerminalStyle) -> [String] {
        let showsCommand = sessions.contains { $0.command != nil }
        let showsListeners = showsCommand || sessions.contains { $0.proxy["socks5"] != nil || $0.proxy["transparent"] != nil }
        var rows = [["ID", "STARTED", "FLOWS", "BYTES", "STATUS"] + (showsListeners ? ["LISTENERS"] : [])
                    + (showsCommand ? ["COMMAND"] : [])]
        for session in sessions {
            rows.append([session.id, ShowText.localTime(session.started), String(session.flows),
                         ByteCountText.format(session.bytes), status(session)]
                        + (showsListeners ? [ProxyListenersText.all(session.proxy)] : [])
                        + (showsCommand ? [session.command.map(commandLine) ?? ""] : []))
        }
        let lines = ShowText.table(rows, rightAligned: [2, 3]) { row, column, cell in
            if row == 0 { return style.bold(cell) }
            if column == 4 && !sessions[row - 1].isClosed { return style.yellow(cell) }
            return cell
        }
        return lines
    }

    /// `closed`, `being written` (its proxy is running) or `not closed` (its proxy was killed).
    static func status(_ session: SessionSummary) -> String {
        session.isClosed ? "closed" : session.isBeingWritten ? "being written" : "not closed"
    }

    static func json(_ sessions: [SessionSummary]) -> String {
        ShowJSON.text(.array(sessions.map { session in
            .object([
                JSONMember("id", .string(session.id)),
                JSONMember("directory", .string(session.directory)),
                JSONMember("started", .string(isoTime(session.started))),
                JSONMember("ended", session.ended.map { .string(isoTime($0)) } ?? .null),
                JSONMember("closed", .bool(session.isClosed)),
                JSONMember("beingWritten", .bool(session.isBeingWritten)),
                JSONMember("flows", .integer(session.flows)),
                JSONMember("bytes", .integer(session.bytes)),
                JSONMember("tapline", .string(session.tapline)),
                JSONMember("command", session.command.map { .array($0.map { .string($0) }) } ?? .null),
                JSONMember("proxy", .object(session.proxy.map { JSONMember($0.key, .string($0.value)) })),
            ])
        }))
    }

    /// argv as one line a user could paste into a shell (each argument quoted as
    /// `tapline export --curl` quotes its words).
    static func commandLine(_ arguments: [String]) -> String {
        arguments.map(CurlCommand.quote).joined(separator: " ")
    }

    /// UTC ISO 8601 with milliseconds, as in session.json.
    static func isoTime(_ time: Timestamp) -> String {
        let date = Date(timeIntervalSince1970: Double(time.microseconds) / 1_000_000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
