extension UpstreamTarget {
    /// Parses `http://`, `https://` or `h2c://host[:port]`: `h2c://` is an `http://` target
    /// spoken to in HTTP/2 by prior knowledge (RFC 9113 §3.3). The one reading of that
    /// spelling for every command that takes one (`proxy --reverse`, `replay --target`,
    /// `proto --reflect`); the error names `url` as the user wrote it.
    public static func parseAllowingH2C(_ url: String) throws(InvalidUpstreamTarget)
        -> (target: UpstreamTarget, priorKnowledgeHTTP2: Bool) {
        guard url.lowercased().hasPrefix("h2c://") else { return (try UpstreamTarget(url: url), false) }
        do {
            return (try UpstreamTarget(url: "http://" + url.dropFirst("h2c://".count)), true)
        } catch {
            throw InvalidUpstreamTarget(url: url, reason: error.reason)
        }
    }
}
