import Glibc

/// ANSI colours for terminal output: on only when the stream is a TTY and
/// `NO_COLOR` is not set (https://no-color.org).
struct TerminalStyle: Sendable {
    let enabled: Bool

    init(fileDescriptor: Int32) {
        enabled = isatty(fileDescriptor) == 1 && getenv("NO_COLOR") == nil
    }

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func bold(_ text: String) -> String { wrap(text, "1") }
    func dim(_ text: String) -> String { wrap(text, "2") }
    func red(_ text: String) -> String { wrap(text, "31") }
    func green(_ text: String) -> String { wrap(text, "32") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func cyan(_ text: String) -> String { wrap(text, "36") }

    /// Colour for an HTTP status: 2xx green, 3xx cyan, 4xx yellow, 5xx red.
    func status(_ code: Int, _ text: String) -> String {
        switch code {
        case 200..<300: return green(text)
        case 300..<400: return cyan(text)
        case 400..<500: return yellow(text)
        default: return red(text)
        }
    }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
