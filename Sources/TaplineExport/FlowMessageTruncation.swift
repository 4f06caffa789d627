import TaplineCapture

/// Why an exported message's `data` is not its whole payload: the capture could not
/// hold it, or the export cut it. Exporters write it as a marker next to the data
/// (`{"truncated": true, "size": N, "reason": rawValue}`, docs/export.md) and HAR import
/// reads it back, so import -> export keeps it. A value type.
public enum FlowMessageTruncation: String, Sendable, Equatable, CaseIterable {
    /// The capture's copy stopped at the proxy's 64 MiB message cap; the message was relayed whole.
    case capped
    /// A compressed message that could not be inflated (the compression context was lost
    /// when an earlier message from that side was capped): nothing is stored; `size` is
    /// its compressed size.
    case undecoded
    /// The capture stored only the first bytes (`--max-body-capture`, or a message a HAR
    /// import received already cut).
    case captureLimit = "capture-limit"
    /// The export wrote only the first bytes of a stored payload (`FlowMessage.exportLimit`).
    case exportLimit = "export-limit"

    /// Why the capture holds only part of `message` (nil: it holds it whole).
    init?(captured message: CapturedWebSocketMessage) {
        if message.undecoded {
            self = .undecoded
        } else if message.decodingCapped {
            self = .capped
        } else if message.truncated {
            self = .captureLimit
        } else {
            return nil
        }
    }
}
