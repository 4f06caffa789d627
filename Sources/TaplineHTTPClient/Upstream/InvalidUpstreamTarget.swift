/// A URL that does not name an upstream (`UpstreamTarget(url:)`), and why, worded for
/// the person who typed it: `invalid upstream "ftp://x": it must start with http:// or https://`.
public struct InvalidUpstreamTarget: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL as given.
    public let url: String
    /// What is wrong with it and how to write it instead.
    public let reason: String

    public init(url: String, reason: String) {
        self.url = url
        self.reason = reason
    }

    public var description: String { "invalid upstream \(url.debugDescription): \(reason)" }
}
