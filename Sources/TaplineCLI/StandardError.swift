import Glibc

/// Writes whole lines to stderr with one write(2) each, so lines from several
/// threads never interleave mid-line.
enum StandardError {
    static func writeLine(_ line: String) {
        write(line + "\n")
    }

    /// Writes `text` as it is (no newline added), with one write(2).
    static func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if written <= 0 { return }
            offset += written
        }
    }
}
