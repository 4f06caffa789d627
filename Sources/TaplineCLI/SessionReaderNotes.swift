import TaplineCapture

/// What a command that reads several sessions tells stderr about each before its
/// output: that its proxy is still writing it, and the reader's warnings (damaged
/// lines skipped, ...), each line starting with `prefix` (`tapline`, `tapline diff`).
enum SessionReaderNotes {
    static func write(_ sessions: [CapturedSession], prefix: String) {
        for session in sessions {
            if session.isBeingWritten { StandardError.writeLine("\(prefix): \(ShowText.beingWrittenNote(session))") }
            for warning in session.warnings { StandardError.writeLine("\(prefix): warning: \(session.id): \(warning)") }
        }
    }
}
