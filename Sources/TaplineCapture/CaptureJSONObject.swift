import Foundation

/// Typed, non-throwing accessors over a parsed JSON object (from
/// JSONSerialization) for the reader: every getter returns nil when the field
/// is missing or has another type, so a damaged line never traps.
struct CaptureJSONObject {
    let raw: [String: Any]

    init(_ raw: [String: Any]) { self.raw = raw }

    func string(_ key: String) -> String? { raw[key] as? String }

    func int64(_ key: String) -> Int64? {
        guard let value = raw[key] else { return nil }
        if let number = value as? Int64 { return number }
        if let number = value as? Int { return Int64(number) }
        if let number = value as? UInt64, number <= UInt64(Int64.max) { return Int64(number) }
        if let number = value as? Double, number.rounded() == number, abs(number) < 9.2e18 { return Int64(number) }
        if let number = value as? NSNumber { return number.int64Value }
        return nil
    }

    func uint64(_ key: String) -> UInt64? {
        guard let value = int64(key), value >= 0 else { return nil }
        return UInt64(value)
    }

    func bool(_ key: String) -> Bool? { raw[key] as? Bool }

    func object(_ key: String) -> CaptureJSONObject? {
        (raw[key] as? [String: Any]).map(CaptureJSONObject.init)
    }

    func array(_ key: String) -> [Any]? { raw[key] as? [Any] }

    func has(_ key: String) -> Bool {
        guard let value = raw[key] else { return false }
        return !(value is NSNull)
    }
}
