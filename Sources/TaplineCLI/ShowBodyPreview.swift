import TaplineCapture

/// The body part of `tapline show SESSION --flow N`: up to 4 KiB of text when
/// the stored bytes look like text, otherwise a size line; and a note when
/// `--max-body-capture` kept only a prefix, and one when the message did not end (or, in
/// a flow still in progress, has not yet). Pure apart from reading the body.
enum ShowBodyPreview {
    static let limit = 4096

    static func lines(_ body: CapturedBody, direction: BodyDirection, flowInProgress: Bool,
                      style: TerminalStyle) -> [String] {
        var lines: [String] = []
        if body.bodyBytes == 0 && body.capturedBytes == 0 {
            return [style.dim("(no body)")]
        }
        let preview: [UInt8]
        do {
            preview = try body.bodyData(limit: limit)
        } catch {
            return [style.red("(body unreadable: \(error))")]
        }
        if let text = text(preview, cutAtLimit: body.capturedBytes > UInt64(preview.count)) {
            lines += ShowText.sanitize(text, keepNewlines: true)
                .split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
            if lines.last == "" { lines.removeLast() }
            if body.capturedBytes > UInt64(preview.count) {
                lines.append(style.dim("... \(body.capturedBytes - UInt64(preview.count)) more bytes (all of it: --body \(direction.rawValue))"))
            }
        } else {
            lines.append(style.dim("\(body.capturedBytes) bytes binary (raw bytes: --body \(direction.rawValue))"))
        }
        if body.truncated {
            lines.append(style.yellow("capture kept \(body.capturedBytes) of \(body.bodyBytes) bytes (--max-body-capture)"))
        }
        if !body.isComplete {
            lines.append(style.yellow(flowInProgress ? "(still arriving: the flow is \(FlowSummaryText.inProgressText))"
                                                     : "(the message did not finish)"))
        }
        return lines
    }

    /// The bytes as text if they are UTF-8 without control characters other than
    /// tab, CR, LF and form feed; a multi-byte character cut at the preview limit is allowed.
    static func text(_ bytes: [UInt8], cutAtLimit: Bool) -> String? {
        var decoded = String(validating: bytes, as: UTF8.self)
        if decoded == nil && cutAtLimit {
            for cut in 1...3 where bytes.count >= cut {
                if let text = String(validating: bytes.dropLast(cut), as: UTF8.self) {
                    decoded = text
                    break
                }
            }
        }
        guard let text = decoded else { return nil }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D && value != 0x0C { return nil }
            if value == 0x7F { return nil }
        }
        return text
    }
}
