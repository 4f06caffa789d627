import TaplineFlow

/// Session ids: the UTC start time and four random hex digits,
/// `20261126-154700-3f2a`. They sort by start time; uniqueness within a root
/// directory is guaranteed by creating the directory exclusively (retrying with
/// new random digits on a collision).
enum SessionIdentifier {
    static func make(at time: Timestamp) -> String {
        let random = UInt16.random(in: 0...UInt16.max)
        let hex = String(random, radix: 16)
        return CaptureTimeFormat.compact(time) + "-" + String(repeating: "0", count: 4 - hex.count) + hex
    }

    /// True when `name` has the shape of a session id (used to tell sessions from other directories).
    static func looksLikeID(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count == 20, bytes[8] == UInt8(ascii: "-"), bytes[15] == UInt8(ascii: "-") else { return false }
        return true
    }
}
