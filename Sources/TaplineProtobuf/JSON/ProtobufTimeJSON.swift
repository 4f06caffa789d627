/// The JSON text of `google.protobuf.Timestamp` and `Duration` (protobuf's JSON mapping):
/// a Timestamp is RFC 3339 in UTC with `Z` and 0, 3, 6 or 9 fraction digits
/// (`1972-01-01T10:00:20.021Z`); a Duration is seconds with the same fraction rule and an
/// `s` (`1.5s`, `-0.000001s`). Parsing accepts any 1 to 9 fraction digits and, for
/// Timestamps, a `+hh:mm` / `-hh:mm` offset. Ranges are protobuf's: years 0001 to 9999,
/// durations up to ±315,576,000,000 s; nanos in 0 ... 999,999,999 (Duration: with the
/// sign of seconds). Stateless; no Foundation (proleptic Gregorian arithmetic).
enum ProtobufTimeJSON {
    static let minTimestampSeconds: Int64 = -62_135_596_800  // 0001-01-01T00:00:00Z
    static let maxTimestampSeconds: Int64 = 253_402_300_799  // 9999-12-31T23:59:59Z
    static let maxDurationSeconds: Int64 = 315_576_000_000

    /// nil when out of range.
    static func timestampText(seconds: Int64, nanos: Int32) -> String? {
        guard (minTimestampSeconds...maxTimestampSeconds).contains(seconds), (0...999_999_999).contains(nanos) else { return nil }
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        return padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2) + "T"
            + padded(secondOfDay / 3600, 2) + ":" + padded(secondOfDay / 60 % 60, 2) + ":" + padded(secondOfDay % 60, 2)
            + fraction(nanos) + "Z"
    }

    /// nil when out of range or the signs of seconds and nanos differ.
    static func durationText(seconds: Int64, nanos: Int32) -> String? {
        guard (-maxDurationSeconds...maxDurationSeconds).contains(seconds), (-999_999_999...999_999_999).contains(nanos),
              (seconds >= 0 && nanos >= 0) || (seconds <= 0 && nanos <= 0) else { return nil }
        let negative = seconds < 0 || nanos < 0
        return (negative ? "-" : "") + String(seconds.magnitude) + fraction(Int32(nanos.magnitude)) + "s"
    }

    /// Seconds and nanos of an RFC 3339 text; nil when it is not one or out of range.
    static func timestamp(parsing text: String) -> (seconds: Int64, nanos: Int32)? {
        let chars = Array(text.utf8)
        guard chars.count >= 20, let year = number(chars, 0, 4), chars[4] == UInt8(ascii: "-"),
              let month = number(chars, 5, 2), chars[7] == UInt8(ascii: "-"), let day = number(chars, 8, 2),
              chars[10] == UInt8(ascii: "T") || chars[10] == UInt8(ascii: "t"),
              let hour = number(chars, 11, 2), chars[13] == UInt8(ascii: ":"), let minute = number(chars, 14, 2),
              chars[16] == UInt8(ascii: ":"), let second = number(chars, 17, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var nanos: Int32 = 0
        if index < chars.count, chars[index] == UInt8(ascii: ".") {
            guard let (parsed, end) = fractionNanos(chars, from: index + 1) else { return nil }
            nanos = parsed
            index = end
        }
        var offset: Int64 = 0
        guard index < chars.count else { return nil }
        if chars[index] == UInt8(ascii: "Z") || chars[index] == UInt8(ascii: "z") {
            index += 1
        } else if chars[index] == UInt8(ascii: "+") || chars[index] == UInt8(ascii: "-") {
            guard chars.count == index + 6, let hours = number(chars, index + 1, 2), chars[index + 3] == UInt8(ascii: ":"),
                  let minutes = number(chars, index + 4, 2), hours < 24, minutes < 60 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (chars[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        }
        guard index == chars.count else { return nil }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard (minTimestampSeconds...maxTimestampSeconds).contains(seconds) else { return nil }
        return (seconds, nanos)
    }

    /// Seconds and nanos of a Duration text (`-1.5s`); nil when it is not one or out of range.
    static func duration(parsing text: String) -> (seconds: Int64, nanos: Int32)? {
        var chars = Array(text.utf8)
        guard chars.last == UInt8(ascii: "s") else { return nil }
        chars.removeLast()
        let negative = chars.first == UInt8(ascii: "-")
        if negative { chars.removeFirst() }
        let dot = chars.firstIndex(of: UInt8(ascii: ".")) ?? chars.count
        guard dot > 0, dot <= 12, chars[..<dot].allSatisfy({ (0x30...0x39).contains($0) }),
              let seconds = Int64(String(decoding: chars[..<dot], as: UTF8.self)), seconds <= maxDurationSeconds else { return nil }
        var nanos: Int32 = 0
        if dot < chars.count {
            guard let (parsed, end) = fractionNanos(chars, from: dot + 1), end == chars.count else { return nil }
            nanos = parsed
        }
        return negative ? (-seconds, -nanos) : (seconds, nanos)
    }

    /// `.` and 3, 6 or 9 digits, or nothing for 0.
    private static func fraction(_ nanos: Int32) -> String {
        if nanos == 0 { return "" }
        if nanos % 1_000_000 == 0 { return "." + padded(Int64(nanos / 1_000_000), 3) }
        if nanos % 1000 == 0 { return "." + padded(Int64(nanos / 1000), 6) }
        return "." + padded(Int64(nanos), 9)
    }

    /// 1 to 9 digits from `start` as nanoseconds, and the index after them.
    private static func fractionNanos(_ chars: [UInt8], from start: Int) -> (Int32, Int)? {
        var end = start
        var value: Int32 = 0
        while end < chars.count, (0x30...0x39).contains(chars[end]), end - start < 9 {
            value = value * 10 + Int32(chars[end] - 0x30)
            end += 1
        }
        guard end > start else { return nil }
        for _ in (end - start)..<9 { value *= 10 }
        return (value, end)
    }

    private static func number(_ chars: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        guard start + count <= chars.count else { return nil }
        var value: Int64 = 0
        for byte in chars[start..<(start + count)] {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        return value
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }

    private static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
    private static func civilDate(daysSinceEpoch days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
