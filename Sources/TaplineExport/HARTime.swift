import Glibc
import TaplineFlow

/// Date-times as HAR writes and reads them (ISO 8601). Pure functions.
public enum HARTime {
    /// `2026-11-26T15:47:00.123Z`, or with six fraction digits when the
    /// microseconds are not whole milliseconds (so import gives back the same instant).
    public static func format(_ time: Timestamp) -> String {
        var seconds = time.microseconds / 1_000_000
        var micros = time.microseconds % 1_000_000
        if micros < 0 {
            micros += 1_000_000
            seconds -= 1
        }
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let fraction = micros % 1000 == 0 ? pad(Int(micros / 1000), 3) : pad(Int(micros), 6)
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(fraction)Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; nil when it is not that.
    public static func parse(_ text: String) -> Timestamp? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from >= 0, from + count <= b.count else { return nil }
            var value = 0
            for byte in b[from..<from + count] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard b.count >= 19, let year = number(0, 4), b[4] == 0x2D, let month = number(5, 2), b[7] == 0x2D,
              let day = number(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "),
              let hour = number(11, 2), b[13] == 0x3A, let minute = number(14, 2), b[16] == 0x3A,
              let second = number(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var micros = 0
        if index < b.count && b[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
                if digits < 6 { micros = micros * 10 + Int(b[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offsetSeconds = 0
        if index < b.count {
            if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") {
                index += 1
            } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-") {
                let sign = b[index] == UInt8(ascii: "-") ? -1 : 1
                guard let hours = number(index + 1, 2) else { return nil }
                var minutes = 0
                if index + 3 < b.count && b[index + 3] == 0x3A {
                    guard let m = number(index + 4, 2) else { return nil }
                    minutes = m
                    index += 6
                } else if let m = number(index + 3, 2) {
                    minutes = m
                    index += 5
                } else {
                    index += 3
                }
                offsetSeconds = sign * (hours * 3600 + minutes * 60)
            }
        }
        guard index == b.count else { return nil }
        let seconds = utcSeconds(year, month, day, hour, minute, second) - Int64(offsetSeconds)
        return Timestamp(microseconds: seconds * 1_000_000 + Int64(micros))
    }

    /// An HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, also with dashes as cookies use) as ISO 8601; nil if unparseable.
    public static func isoFromHTTPDate(_ text: String) -> String? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let words = text.split { $0 == " " || $0 == "-" || $0 == "," }.map(String.init)
        var day: Int?, month: Int?, year: Int?, clock: [Int]?
        for word in words {
            if word.contains(":") {
                let pieces = word.split(separator: ":").compactMap { Int($0) }
                if pieces.count == 3 { clock = pieces }
            } else if let index = months.firstIndex(of: String(word.prefix(3)).lowercased()), word.count >= 3, Int(word) == nil {
                month = index + 1
            } else if let value = Int(word) {
                if value > 31 || word.count == 4 { year = value < 100 ? value + (value < 70 ? 2000 : 1900) : value } else if day == nil { day = value }
            }
        }
        guard let day, let month, let year, let clock, clock[0] < 24, clock[1] < 60, clock[2] < 61, (1...31).contains(day) else { return nil }
        return format(Timestamp(microseconds: utcSeconds(year, month, day, clock[0], clock[1], clock[2]) * 1_000_000))
    }

    /// Seconds since the epoch of a UTC calendar time.
    private static func utcSeconds(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) -> Int64 {
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int64(timegm(&parts))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
