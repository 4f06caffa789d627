import Foundation
import TaplineCapture

/// Whether a `CaptureJSONValue` and what JSONSerialization made of the same text
/// are the same JSON value. Stateless.
enum FuzzCaptureJSONAgreement {
    static func matches(_ value: CaptureJSONValue, _ foundation: Any) -> Bool {
        switch value {
        case .null:
            return foundation is NSNull
        case .bool(let bool):
            guard let number = foundation as? NSNumber, isBoolean(number) else { return false }
            return number.boolValue == bool
        case .integer(let integer):
            guard let number = foundation as? NSNumber, !isBoolean(number) else { return false }
            return number.int64Value == integer || number.decimalValue == Decimal(integer)
        case .double(let double):
            // Foundation reads long numbers as NSDecimalNumber, whose doubleValue may
            // be off in the last bits.
            guard let number = foundation as? NSNumber, !isBoolean(number) else { return false }
            let other = number.doubleValue
            return other == double || abs(other - double) <= 1e-12 * max(abs(other), abs(double))
        case .string(let string):
            guard let other = foundation as? String else { return false }
            return withoutBOM(other).unicodeScalars.elementsEqual(withoutBOM(string).unicodeScalars)
        case .array(let elements):
            guard let others = foundation as? [Any], others.count == elements.count else { return false }
            return zip(elements, others).allSatisfy { matches($0, $1) }
        case .object(let members):
            // Foundation keeps the last of duplicated keys; so do the reader's lookups.
            guard let others = foundation as? [String: Any] else { return false }
            var last: [String: CaptureJSONValue] = [:]
            for member in members { last[withoutBOM(member.key)] = member.value }
            let byKey = Dictionary(others.map { (withoutBOM($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
            guard byKey.count == last.count else { return false }
            return last.allSatisfy { key, value in byKey[key].map { matches(value, $0) } ?? false }
        }
    }

    private static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    /// Foundation drops a raw U+FEFF that starts a string or follows an escape; the
    /// parser keeps it (RFC 8259: it is a character like any other).
    private static func withoutBOM(_ string: String) -> String {
        String(String.UnicodeScalarView(string.unicodeScalars.filter { $0 != "\u{FEFF}" }))
    }
}
