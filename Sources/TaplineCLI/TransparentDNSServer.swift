import TaplineNet

/// The DNS server `tapline run --transparent` forwards COMMAND's queries to (its
/// namespace has loopback only, so its resolver cannot reach the host's): the one
/// given with `--dns-server HOST[:PORT]`, else the first `nameserver` of the host's
/// /etc/resolv.conf, port 53. Pure: reading the file is the caller's.
enum TransparentDNSServer {
    static let resolvConfPath = "/etc/resolv.conf"

    /// `--dns-server`'s value: a numeric IPv4 or IPv6 address, with an optional port
    /// (`127.0.0.53`, `10.0.0.2:5353`, `[::1]:53`, `::1`).
    static func parse(_ text: String) throws(UsageError) -> SocketAddress {
        let candidates = text.hasPrefix("[") || text.filter({ $0 == ":" }).count == 1 ? [text, "\(text):53"] : ["[\(text)]:53"]
        for candidate in candidates {
            if let address = try? SocketAddress(parsing: candidate) { return address }
        }
        throw UsageError("--dns-server takes a numeric address with an optional port (127.0.0.53, 10.0.0.2:53, [::1]:53), not \(text.debugDescription)")
    }

    /// The first `nameserver` line's numeric address in resolv.conf `text`, port 53;
    /// nil when there is none.
    static func firstNameserver(inResolvConf text: String) -> SocketAddress? {
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { continue }
            // A link-local address with its zone (fe80::1%eth0) cannot be named without the zone: skipped.
            if let address = try? SocketAddress(host: String(words[1]), port: 53) { return address }
        }
        return nil
    }
}
