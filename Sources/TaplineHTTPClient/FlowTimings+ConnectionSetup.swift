import TaplineFlow

extension FlowTimings {
    /// Takes the DNS, connect and TLS moments of an upstream connection that was
    /// set up before this flow began (so the flow that first uses it shows them).
    public mutating func adoptConnectionSetup(from setup: FlowTimings) {
        dnsStart = setup.dnsStart
        dnsEnd = setup.dnsEnd
        connectStart = setup.connectStart
        connectEnd = setup.connectEnd
        tlsStart = setup.tlsStart
        tlsEnd = setup.tlsEnd
    }
}
