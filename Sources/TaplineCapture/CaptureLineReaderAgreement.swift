import TaplineWire

/// The differential check between the capture reader's two ways of reading an
/// events.jsonl line: the direct one (`CaptureFlatLine`) must either decline a line
/// or answer every `CaptureLineFields` accessor exactly as
/// `CaptureJSONObject` answers for `CaptureJSONParser`'s tree of it (`eventType`, and
/// every accessor for every `CaptureLineKey`, inside objects too). A line whose flow
/// line prefix `CaptureFlowLinePrefix` takes is also read on from after it
/// (`CaptureFlatLine.init(_:into:after:)`), which must decline and answer alike. Used
/// by the unit tests and the capturejson fuzzer (hence public). Stateless.
public enum CaptureLineReaderAgreement {
    /// What the check found for one line: `.declined` (the general parser reads it)
    /// and `.agreed` are both fine; `.disagreed` is a bug, with the first difference.
    public enum Verdict: Equatable, Sendable {
        case declined
        case agreed
        case disagreed(String)
    }

    public static func check(_ line: UnsafeBufferPointer<UInt8>) -> Verdict {
        let resumed = CaptureFlowLinePrefix(line, eventTypeNames: CaptureEventType.names.lookup)
            .map { CaptureFlatLine(line, into: CaptureFlatLine.Slots(), after: $0) }
        guard let flat = CaptureFlatLine(line) else {
            if case .some(.some) = resumed { return .disagreed("read after its prefix, a line the direct reader declines was taken") }
            return .declined
        }
        guard let parsed = try? CaptureJSONParser.parse(line), let object = CaptureJSONObject(parsed) else {
            return .disagreed("the direct reader took a line the parser rejects or that is not an object")
        }
        if let resumed {
            guard let resumed else { return .disagreed("read after its prefix, a line the direct reader takes was declined") }
            if resumed.eventType != object.eventType { return .disagreed("after the prefix, eventType") }
            if let inner = difference(resumed, object) { return .disagreed("after the prefix, \(inner)") }
        }
        if flat.eventType != object.eventType {
            return .disagreed("eventType: \(String(describing: flat.eventType)) vs \(String(describing: object.eventType))")
        }
        return difference(flat, object).map(Verdict.disagreed) ?? .agreed
    }

    public static func check(_ line: [UInt8]) -> Verdict {
        line.withUnsafeBufferPointer { check($0) }
    }

    /// The same check of each of `lines` in turn, read as the assembler reads a session:
    /// one after another into the same slots (which learn which member follows which,
    /// `CaptureFlatLine.Slots`), each also from after its flow line prefix where it has
    /// one. A line must be declined or taken as it is with slots of its own, and agree
    /// with the parser when taken. The first disagreement, naming the line by its
    /// position; otherwise `.agreed` (declined lines included).
    public static func checkInSequence(_ lines: [[UInt8]]) -> Verdict {
        let slots = CaptureFlatLine.Slots()
        for (position, line) in lines.enumerated() {
            let verdict = line.withUnsafeBufferPointer { bytes -> Verdict in
                let alone = check(bytes)
                if case .disagreed = alone { return alone }
                if let prefix = CaptureFlowLinePrefix(bytes, eventTypeNames: CaptureEventType.names.lookup) {
                    if let problem = agreement(CaptureFlatLine(bytes, into: slots, after: prefix), bytes, alone: alone) {
                        return .disagreed("after the prefix, \(problem)")
                    }
                }
                return agreement(CaptureFlatLine(bytes, into: slots), bytes, alone: alone).map(Verdict.disagreed) ?? .agreed
            }
            if case .disagreed(let difference) = verdict { return .disagreed("line \(position): \(difference)") }
        }
        return .agreed
    }

    /// What is wrong with `flat`, line `bytes` read into shared slots, given the line's
    /// verdict read alone (`.declined` or `.agreed`); nil when nothing is.
    private static func agreement(_ flat: CaptureFlatLine?, _ bytes: UnsafeBufferPointer<UInt8>, alone: Verdict) -> String? {
        guard let flat else { return alone == .declined ? nil : "declined, but taken with slots of its own" }
        guard alone == .agreed, let parsed = try? CaptureJSONParser.parse(bytes), let object = CaptureJSONObject(parsed) else {
            return "taken, but declined with slots of its own"
        }
        if flat.eventType != object.eventType { return "eventType" }
        return difference(flat, object)
    }

    /// The first accessor, over every key (the only names the assembler can ask for),
    /// where the two readers' answers differ; objects are compared the same way.
    private static func difference(_ flat: CaptureFlatLine, _ object: CaptureJSONObject) -> String? {
        for key in CaptureLineKey.allCases {
            let name = key.jsonName
            if flat.value(key) != object.value(key) {
                return "value(\(name)): \(String(describing: flat.value(key))) vs \(String(describing: object.value(key)))"
            }
            if flat.string(key) != object.string(key) { return "string(\(name))" }
            if flat.int64(key) != object.int64(key) { return "int64(\(name))" }
            if flat.uint64(key) != object.uint64(key) { return "uint64(\(name))" }
            if flat.bool(key) != object.bool(key) { return "bool(\(name))" }
            if flat.array(key) != object.array(key) { return "array(\(name))" }
            if flat.headers(key) != object.headers(key) { return "headers(\(name))" }
            switch (flat.object(key), object.object(key)) {
            case (nil, nil): break
            case (let flatMember?, let objectMember?):
                if let inner = difference(flatMember, objectMember) { return "object(\(name)).\(inner)" }
            default: return "object(\(name))"
            }
        }
        return nil
    }
}
