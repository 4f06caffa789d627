import TaplineWire

/// The `timings` object of an imported HAR entry as the tool recorded it, in
/// milliseconds (HAR 1.2 §timings): `-1` where it said the phase does not apply,
/// nil where it wrote no number (or numeric string). `connect` includes `ssl`, as in HAR.
///
/// The capture holds the flow's timings as moments rebuilt from these phases (a
/// `blocked` of 12.5 ms moves the request's send 12.5 ms later, a `-1` counts as
/// no time), so only this says which phases the tool measured. A value type, pure.
public struct HARRecordedTimings: Sendable, Equatable {
    public let blocked: Double?
    public let dns: Double?
    public let connect: Double?
    public let ssl: Double?
    public let send: Double?
    public let wait: Double?
    public let receive: Double?

    /// The phases of `timings`, a HAR entry's timings object; nil when it is not an object.
    init?(_ timings: JSONValue) {
        guard timings.objectMembers != nil else { return nil }
        // As the importer reads them: a number, or a numeric string some writers use.
        func phase(_ name: String) -> Double? { timings[name]?.doubleValue }
        blocked = phase("blocked")
        dns = phase("dns")
        connect = phase("connect")
        ssl = phase("ssl")
        send = phase("send")
        wait = phase("wait")
        receive = phase("receive")
    }

    /// The phases that have a number, in HAR's order (blocked, dns, connect, ssl, send,
    /// wait, receive), with their HAR names.
    public var recordedPhases: [(name: String, milliseconds: Double)] {
        let all: [(String, Double?)] = [("blocked", blocked), ("dns", dns), ("connect", connect), ("ssl", ssl),
                                        ("send", send), ("wait", wait), ("receive", receive)]
        return all.compactMap { name, value in value.map { (name, $0) } }
    }
}
