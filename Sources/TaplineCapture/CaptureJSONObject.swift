import TaplineWire

/// Typed, non-throwing accessors over one parsed JSON object (from
/// `CaptureJSONParser`) for the reader: every getter returns nil when the field is
/// missing or has another type, so a damaged line never traps.
///
/// Lookups scan the members linearly (a capture line has about a dozen) from the
/// end, so a duplicated key reads as its last value, as with JSONSerialization.
/// Numbers: `int64` also takes a double with an integral value (`1.0`, `1e3`);
/// booleans are only `true`/`false`, never numbers.
/// A value type; used on the reading thread only.
///
/// As `CaptureLineFields` (the general reader of an events.jsonl line), keys are
/// `CaptureLineKey`s, compared by name.
struct CaptureJSONObject: CaptureLineFields {
    /// The object's members in document order.
    let members: [(key: String, value: CaptureJSONValue)]

    init(members: [(key: String, value: CaptureJSONValue)]) { self.members = members }

    /// The object in `value`, or nil when `value` is not an object.
    init?(_ value: CaptureJSONValue) {
        guard case .object(let members) = value else { return nil }
        self.members = members
    }

    /// The value of the last member named `key`.
    func value(_ key: String) -> CaptureJSONValue? {
        var index = members.endIndex
        while index > members.startIndex {
            index -= 1
            if members[index].key == key { return members[index].value }
        }
        return nil
    }

    func string(_ key: String) -> String? { value(key)?.stringValue }

    func int64(_ key: String) -> Int64? { value(key)?.int64Value }

    func uint64(_ key: String) -> UInt64? {
        guard let value = int64(key), value >= 0 else { return nil }
        return UInt64(value)
    }

    func bool(_ key: String) -> Bool? { value(key)?.boolValue }

    func object(_ key: String) -> CaptureJSONObject? { value(key).flatMap(CaptureJSONObject.init) }

    func array(_ key: String) -> [CaptureJSONValue]? { value(key)?.arrayValue }

    func headers(_ key: String) -> HTTPHeaders? { array(key).flatMap(CapturedSessionAssembler.headers) }

    /// True when the member exists and is not `null`.
    func has(_ key: String) -> Bool {
        guard let value = value(key) else { return false }
        return !value.isNull
    }

    // MARK: - CaptureLineFields

    func value(_ key: CaptureLineKey) -> CaptureJSONValue? { value(key.jsonName) }

    func string(_ key: CaptureLineKey) -> String? { string(key.jsonName) }

    func int64(_ key: CaptureLineKey) -> Int64? { int64(key.jsonName) }

    func uint64(_ key: CaptureLineKey) -> UInt64? { uint64(key.jsonName) }

    func bool(_ key: CaptureLineKey) -> Bool? { bool(key.jsonName) }

    func object(_ key: CaptureLineKey) -> CaptureJSONObject? { object(key.jsonName) }

    func array(_ key: CaptureLineKey) -> [CaptureJSONValue]? { array(key.jsonName) }

    func headers(_ key: CaptureLineKey) -> HTTPHeaders? { headers(key.jsonName) }

    func headers(_ key: CaptureLineKey, mayName name: String) -> Bool? {
        headers(key.jsonName).map { $0.contains(name: name) }
    }

    func hasHeaders(_ key: CaptureLineKey) -> Bool { headers(key.jsonName) != nil }

    var eventType: CaptureEventType? { string(.type).flatMap(CaptureEventType.init(rawValue:)) }
}
