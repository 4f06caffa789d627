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
