import Glibc
import TaplineFlow

/// ISO 8601 UTC text for `session.json` (`2026-11-26T15:47:00.123Z`) and the
/// compact UTC form used in session ids (`20261126-154700`). Pure functions.
enum CaptureTimeFormat {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
    static func iso8601(_ time: Timestamp) -> String {
        let seconds = floorDivide(time.microseconds, 1_000_000)
        let millis = Int((time.microseconds - seconds * 1_000_000) / 1_000)
        let parts = utcParts(seconds)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// `YYYYMMDD-HHMMSS` in UTC.
    static func compact(_ time: Timestamp) -> String {
        let parts = utcParts(floorDivide(time.microseconds, 1_000_000))
        return "\(pad(parts.tm_year + 1900, 4))\(pad(parts.tm_mon + 1, 2))\(pad(parts.tm_mday, 2))-"
            + "\(pad(parts.tm_hour, 2))\(pad(parts.tm_min, 2))\(pad(parts.tm_sec, 2))"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; nil when it is not that.
    static func parseISO8601(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[from..<from + count] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == UInt8(ascii: "-"), let month = number(5, 2),
              bytes[7] == UInt8(ascii: "-"), let day = number(8, 2), bytes[10] == UInt8(ascii: "T"),
              let hour = number(11, 2), bytes[13] == UInt8(ascii: ":"), let minute = number(14, 2),
              bytes[16] == UInt8(ascii: ":"), let second = number(17, 2) else { return nil }
        var micros = 0
        if bytes[19] == UInt8(ascii: ".") {
            let digits = bytes[20..<bytes.count - 1]
            guard !digits.isEmpty, digits.count <= 9, let fraction = number(20, digits.count) else { return nil }
            micros = fraction
            var scale = digits.count
            while scale < 6 { micros *= 10; scale += 1 }
            while scale > 6 { micros /= 10; scale -= 1 }
        } else if bytes.count != 20 {
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Timestamp(microseconds: Int64(seconds) * 1_000_000 + Int64(micros))
    }

    private static func utcParts(_ seconds: Int64) -> tm {
        var clock = time_t(seconds)
        var parts = tm()
        gmtime_r(&clock, &parts)
        return parts
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    private static func pad(_ value: Int32, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
