/// A timeout in milliseconds as people read it in messages: `5 s`, `1.5 s`, `0.25 s`
/// (the CLI takes fractional seconds, so whole-second division would say `1 s` for 1.5).
enum TimeoutText {
    static func seconds(_ milliseconds: Int) -> String {
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        var text = String(Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text + " s"
    }
}
