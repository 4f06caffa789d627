import TaplineFlow

/// The JSON names of `FlowTimings` moments in events.jsonl (`CaptureLineKey`s), in life
/// order, and the way back (the writer spells the same names out in
/// `JSONLineBuilder.timings`; the round-trip tests hold the two together).
enum FlowTimingsCoding {
    static let keys: [CaptureLineKey] = [.requestStart, .dnsStart, .dnsEnd, .connectStart, .connectEnd,
                                         .tlsStart, .tlsEnd, .requestSent, .firstResponseByte, .done]

    static func set(_ key: CaptureLineKey, _ moment: Timestamp, in timings: inout FlowTimings) {
        switch key {
        case .requestStart: timings.requestStart = moment
        case .dnsStart: timings.dnsStart = moment
        case .dnsEnd: timings.dnsEnd = moment
        case .connectStart: timings.connectStart = moment
        case .connectEnd: timings.connectEnd = moment
        case .tlsStart: timings.tlsStart = moment
        case .tlsEnd: timings.tlsEnd = moment
        case .requestSent: timings.requestSent = moment
        case .firstResponseByte: timings.firstResponseByte = moment
        case .done: timings.done = moment
        default: break
        }
    }
}
