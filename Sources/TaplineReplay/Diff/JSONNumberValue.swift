/// A JSON number literal reduced to its exact decimal value, so numbers compare
/// by value without going through `Double`: `1`, `1.0`, `10e-1` and `0.1E1` are
/// equal, `-0` equals `0`, and integers longer than 2^53 stay exact
/// (`9007199254740993` differs from `9007199254740992`).
///
/// Invariants: `digits` has no leading or trailing `0` (empty for zero, whose
/// sign and exponent are then `false` and 0); the value is
/// `(negative ? -1 : 1) × digits × 10^exponent`. A value type.
struct JSONNumberValue: Hashable {
    let negative: Bool
    let digits: [UInt8]
    let exponent: Int

    /// Parses a literal the JSON parser accepted; nil for anything else (or an
    /// exponent too large to hold, which then compares by its text).
    init?(literal: String) {
        var bytes = Array(literal.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        var mantissa: [UInt8] = []
        var exponent = 0
        var seenPoint = false
        while let byte = bytes.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else if byte >= 0x30 && byte <= 0x39 {
                mantissa.append(byte)
                if seenPoint { exponent -= 1 }
            } else {
                return nil
            }
        }
        guard !mantissa.isEmpty else { return nil }
        if !bytes.isEmpty {
            bytes = bytes.dropFirst()  // `e` or `E`; Int() accepts the sign JSON allows after it
            guard let written = Int(String(decoding: bytes, as: UTF8.self)),
                  abs(written) < Int(Int32.max) else { return nil }
            exponent += written
        }
        let firstNonZero = mantissa.firstIndex { $0 != 0x30 } ?? mantissa.endIndex
        var significant = Array(mantissa[firstNonZero...])
        while significant.last == 0x30 {
            significant.removeLast()
            exponent += 1
        }
        if significant.isEmpty {
            self.negative = false
            self.digits = []
            self.exponent = 0
        } else {
            self.negative = negative
            self.digits = significant
            self.exponent = exponent
        }
    }

    /// True when the literals `a` and `b` denote the same number (by text when
    /// either cannot be reduced).
    static func equal(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let left = JSONNumberValue(literal: a), let right = JSONNumberValue(literal: b) else { return false }
        return left == right
    }
}
