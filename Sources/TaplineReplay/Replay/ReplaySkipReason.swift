/// Why a selected flow is not replayed, in words for the summary and the reports
/// (`flow 7: WebSocket replay is not supported yet`).
public struct ReplaySkipReason: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
