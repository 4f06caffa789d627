import Foundation
import Glibc
import TaplineCapture
import TaplineFlow

/// Small text helpers for `tapline sessions` and `tapline show`: padding,
/// local times, durations, and making captured text safe for a terminal.
enum ShowText {
    /// `text` padded with spaces to `width` characters (left-aligned), or right-aligned.
    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text }
        let spaces = String(repeating: " ", count: width - count)
        return right ? spaces + text : text + spaces
    }

    /// Rows of cells as aligned columns separated by two spaces; `rightAligned`
    /// holds the column indexes to align right; `maxWidths` caps a column's width
    /// (longer cells still print in full). `decorate(row, column, paddedCell)` may
    /// wrap a padded cell in colour codes (which take no width). Trailing spaces are trimmed.
    static func table(_ rows: [[String]], rightAligned: Set<Int> = [], maxWidths: [Int: Int] = [:],
                      decorate: (Int, Int, String) -> String = { $2 }) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        for (index, limit) in maxWidths where index < columns { widths[index] = min(widths[index], limit) }
        return rows.enumerated().map { rowIndex, row in
            var line = ""
            for (index, cell) in row.enumerated() {
                if index > 0 { line += "  " }
                var padded = pad(cell, widths[index], right: rightAligned.contains(index))
                if index == row.count - 1 { while padded.hasSuffix(" ") { padded.removeLast() } }
                line += decorate(rowIndex, index, padded)
            }
            return line
        }
    }

    /// Said (not warned) when a session's proxy is still writing it: flows without
    /// an end are in progress, not cut short.
    static func beingWrittenNote(_ session: CapturedSession) -> String {
        "session \(session.id) is still being written (its proxy is running); showing what was written so far"
    }

    /// `2026-11-26 16:47:00` in the local time zone.
    static func localTime(_ time: Timestamp) -> String {
        var clock = time_t(time.microseconds / 1_000_000)
        var parts = tm()
        localtime_r(&clock, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `12 ms`, `3.4 ms`, `0.05 ms`.
    static func milliseconds(_ value: Double) -> String {
        if value >= 10 { return "\(Int(value.rounded())) ms" }
        if value >= 1 {
            let tenths = Int((value * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) ms"
        }
        let hundredths = Int((max(0, value) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) ms"
    }

    /// Captured text made safe to print: control characters other than tab (and
    /// newline when `keepNewlines`) become `\u{XX}`-style escapes, so a hostile
    /// server cannot send escape sequences to the user's terminal.
    /// True when `text` has a character `sanitize` would escape (checked on the
    /// UTF-8 bytes: C0 controls, DEL, and C1 controls, which are `C2 80`–`C2 9F`).
    private static func needsSanitizing(_ text: String, keepNewlines: Bool) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte < 0x20 {
                if byte == 0x09 || (keepNewlines && (byte == 0x0A || byte == 0x0D)) {
                    previous = byte
                    continue
                }
                return true
            }
            if byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte < 0xA0) { return true }
            previous = byte
        }
        return false
    }

    static func sanitize(_ text: String, keepNewlines: Bool = false) -> String {
        if !needsSanitizing(text, keepNewlines: keepNewlines) { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0x09 || (keepNewlines && (value == 0x0A || value == 0x0D)) {
                result.unicodeScalars.append(scalar)
            } else if value < 0x20 || value == 0x7F || (value >= 0x80 && value < 0xA0) {
                result += "\\x" + String(format: "%02x", value)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
