/// `tapline run --transparent [--transparent-method tproxy|redirect]`: how the
/// namespace's nftables rules send COMMAND's traffic to Tapline (`RunNamespace`).
enum TransparentMethod: String, Equatable {
    /// `tproxy` in a filter-priority `prerouting` chain, after the command's packets
    /// are marked and routed back through the loopback: no `nat` table, so the
    /// namespace's kernel keeps no connection tracking (the default).
    case tproxy
    /// `redirect` in a `nat` `output` chain: connection tracking for every packet
    /// in the namespace (+4 µs per request, docs/performance.md).
    case redirect

    /// Consumes `--transparent-method` from `args`; `.tproxy` when absent.
    init(_ args: inout CommandArguments, transparent: Bool) throws(UsageError) {
        guard let text = try args.value("--transparent-method") else {
            self = .tproxy
            return
        }
        guard transparent else { throw UsageError("--transparent-method chooses how --transparent intercepts: add --transparent") }
        guard let method = TransparentMethod(rawValue: text) else {
            throw UsageError("--transparent-method takes tproxy or redirect, not \(text.debugDescription)")
        }
        self = method
    }
}
