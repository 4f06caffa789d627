import Foundation

/// The listeners a session's proxy had, as session.json's `proxy` records them
/// (`listen`, `socks5`, `transparent` — comma-separated when several — and
/// `transparentNamespace`), in words for `tapline sessions` and `tapline show --flow`.
/// Pure: returns text.
enum ProxyListenersText {
    /// Every listener: `127.0.0.1:8080, socks5 127.0.0.1:1080, transparent 127.0.0.1:40000,
    /// [::1]:40001 in tapline-run-42`; empty when none was recorded (an import, a replay).
    static func all(_ proxy: [String: String]) -> String {
        var parts: [String] = []
        if let listen = proxy["listen"] { parts.append(listen) }
        if let socks5 = proxy["socks5"] { parts.append("socks5 \(socks5)") }
        if let transparent = proxy["transparent"] { parts.append("transparent \(transparent)" + namespaceSuffix(proxy)) }
        return parts.joined(separator: ", ")
    }

    /// The listener a connection arrived on, with its kind when the session recorded it:
    /// `127.0.0.1:40000 (transparent, in tapline-run-42)`, `127.0.0.1:1080 (SOCKS5)`,
    /// `127.0.0.1:8080 (forward)` (the main listener, with the proxy's mode); the bare
    /// address otherwise.
    static func describe(_ listener: String, proxy: [String: String]) -> String {
        if proxy["socks5"] == listener { return "\(listener) (SOCKS5)" }
        if let transparent = proxy["transparent"], transparent.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == listener
        }) {
            return "\(listener) (transparent" + (proxy["transparentNamespace"].map { ", in \($0)" } ?? "") + ")"
        }
        if proxy["listen"] == listener { return "\(listener) (\(proxy["mode"] ?? "proxy"))" }
        return listener
    }

    private static func namespaceSuffix(_ proxy: [String: String]) -> String {
        proxy["transparentNamespace"].map { " in \($0)" } ?? ""
    }
}
