import TaplineNet

extension CommandArguments {
    /// `--listen HOST:PORT`, consumed and parsed; `defaultAddress` when it is absent.
    /// An address that does not parse is a usage error naming `--listen`.
    mutating func listenAddress(default defaultAddress: String) throws(UsageError) -> SocketAddress {
        let text = try value("--listen") ?? defaultAddress
        do {
            return try SocketAddress(parsing: text)
        } catch {
            throw UsageError("--listen: \(error)")
        }
    }
}
