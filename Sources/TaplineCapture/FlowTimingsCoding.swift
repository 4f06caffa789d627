import TaplineFlow

/// The JSON names of `FlowTimings` moments in events.jsonl, in life order, and
/// the way back. One table so the writer and the reader cannot disagree.
enum FlowTimingsCoding {
    static let names = ["requestStart", "dnsStart", "dnsEnd", "connectStart", "connectEnd",
                        "tlsStart", "tlsEnd", "requestSent", "firstResponseByte", "done"]

    static func fields(of timings: FlowTimings) -> [(String, Timestamp?)] {
        [("requestStart", timings.requestStart), ("dnsStart", timings.dnsStart), ("dnsEnd", timings.dnsEnd),
         ("connectStart", timings.connectStart), ("connectEnd", timings.connectEnd),
         ("tlsStart", timings.tlsStart), ("tlsEnd", timings.tlsEnd), ("requestSent", timings.requestSent),
         ("firstResponseByte", timings.firstResponseByte), ("done", timings.done)]
    }

    static func set(_ name: String, _ moment: Timestamp, in timings: inout FlowTimings) {
        switch name {
        case "requestStart": timings.requestStart = moment
        case "dnsStart": timings.dnsStart = moment
        case "dnsEnd": timings.dnsEnd = moment
        case "connectStart": timings.connectStart = moment
        case "connectEnd": timings.connectEnd = moment
        case "tlsStart": timings.tlsStart = moment
        case "tlsEnd": timings.tlsEnd = moment
        case "requestSent": timings.requestSent = moment
        case "firstResponseByte": timings.firstResponseByte = moment
        case "done": timings.done = moment
        default: break
        }
    }
}
