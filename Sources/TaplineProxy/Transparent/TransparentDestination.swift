import TaplineNet

/// Where a connection accepted on the `--transparent` listener goes: its original
/// destination (`SO_ORIGINAL_DST` after a `redirect`, or the accepted socket's own
/// local address after a `tproxy`; both read by the caller), unless it has none or
/// it would loop back into Tapline. Pure: no I/O.
enum TransparentDestination {
    /// Why a transparent connection cannot be tunnelled; `description` says what to do.
    enum Refusal: Error, Equatable, CustomStringConvertible {
        /// The kernel has no NAT record for it and it was not `tproxy`ed: the client
        /// connected to the listener directly.
        case notRedirected(listener: SocketAddress)
        /// Its original destination is one of Tapline's own listeners.
        case loop(SocketAddress)

        var description: String {
            switch self {
            case .notRedirected(let listener):
                return "the connection to the transparent listener \(listener) was not redirected by the kernel (no original destination): send clients' traffic to it with an nftables `redirect` or `tproxy` rule (or use `tapline run --transparent`), or point them at the forward proxy"
            case .loop(let destination):
                return "the connection's original destination \(destination) is Tapline's own listener: it would loop; exclude the listener's address from the redirect rule"
            }
        }
    }

    /// The destination the client addressed: the NAT's record (`natOriginal`, after a
    /// `redirect`), else the accepted socket's local address when that is not the
    /// listener's own (a `tproxy` keeps the destination as the local address); nil
    /// when the client connected to the listener directly.
    static func original(natOriginal: SocketAddress?, acceptedLocal: SocketAddress, listener: SocketAddress) -> SocketAddress? {
        natOriginal ?? (acceptedLocal == listener ? nil : acceptedLocal)
    }

    /// The destination to tunnel to. `original` is nil when the kernel had none;
    /// `ownListeners` are the addresses Tapline's listeners are bound to (a wildcard
    /// host matches any address with its port).
    static func resolve(original: SocketAddress?, listener: SocketAddress,
                        ownListeners: [SocketAddress]) -> Result<SocketAddress, Refusal> {
        guard let original else { return .failure(.notRedirected(listener: listener)) }
        let isOwn = original == listener || ownListeners.contains { own in
            own.port == original.port && (own.host == original.host || own.host == "0.0.0.0" || own.host == "::")
        }
        return isOwn ? .failure(.loop(original)) : .success(original)
    }
}
