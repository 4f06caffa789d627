/// `tapline run --transparent [--ports 80,443|all]`: which of COMMAND's TCP
/// connections the namespace's rule redirects to Tapline.
struct TransparentPorts: Equatable {
    /// The destination ports redirected; nil: every TCP connection.
    let ports: [Int]?

    /// Consumes `--transparent` and `--ports` from `args`; nil without `--transparent`.
    init?(_ args: inout CommandArguments) throws(UsageError) {
        let portsText = try args.value("--ports")
        guard args.flag("--transparent") else {
            if portsText != nil { throw UsageError("--ports chooses what --transparent redirects: add --transparent") }
            return nil
        }
        guard let portsText, portsText != "all" else {
            ports = nil
            return
        }
        var ports: [Int] = []
        for item in portsText.split(separator: ",", omittingEmptySubsequences: false) {
            guard let port = Int(item), (1...65535).contains(port) else {
                throw UsageError("--ports takes all or a comma-separated list of ports from 1 to 65535 (80,443), not \(portsText.debugDescription)")
            }
            ports.append(port)
        }
        self.ports = ports
    }
}
