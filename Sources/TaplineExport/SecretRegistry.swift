import Foundation
import TaplineWire

/// The secrets met while exporting: each becomes a `{{variable}}` defined
/// empty at collection level, and its value is remembered so a last pass can
/// replace any other occurrence of it anywhere in the output (a token echoed
/// in a response body, a password inside a URL).
///
/// Invariants: variable names are identifiers, in order of first use; a value
/// is recorded with its percent-encoded and base64 forms too. Values shorter
/// than `minimumScrubLength` are replaced where found structurally but not
/// searched for elsewhere (too many false hits). A value type owned by one export.
public struct SecretRegistry: Sendable {
    public static let minimumScrubLength = 4

    public private(set) var variables: [String] = []
    private var known: Set<String> = []
    /// value -> variable, for the final scrub.
    private var values: [String: String] = [:]

    public init() {}

    /// Records `value` as the secret behind `variable` and returns `{{variable}}`.
    @discardableResult
    public mutating func record(_ value: String, as variable: String) -> String {
        let name = variable.isEmpty ? "secret" : variable
        if known.insert(name).inserted { variables.append(name) }
        if !value.isEmpty && !value.hasPrefix("{{") {
            remember(value, name)
            remember(PercentEncoding.encode(value), name)
            remember(PercentEncoding.encode(value).replacingOccurrences(of: "%20", with: "+"), name)
            remember(Data(value.utf8).base64EncodedString(), name)
        }
        return "{{\(name)}}"
    }

    private mutating func remember(_ value: String, _ name: String) {
        guard value.count >= Self.minimumScrubLength, values[value] == nil else { return }
        values[value] = name
    }

    /// True when no secret was recorded.
    public var isEmpty: Bool { variables.isEmpty }

    /// `text` with every known secret value replaced by its `{{variable}}` (longest values first).
    public func scrub(_ text: String) -> String {
        scrub(text, ordered: orderedValues)
    }

    /// `value` with every string (not keys) scrubbed.
    public func scrub(_ value: JSONValue) -> JSONValue {
        guard !values.isEmpty else { return value }
        return scrub(value, ordered: orderedValues)
    }

    /// Longest values first, so a value containing another is replaced whole.
    private var orderedValues: [(value: String, name: String)] {
        values.map { ($0.key, $0.value) }
            .sorted { $0.0.count != $1.0.count ? $0.0.count > $1.0.count : $0.0 < $1.0 }
    }

    private func scrub(_ text: String, ordered: [(value: String, name: String)]) -> String {
        var result = text
        for (value, name) in ordered where result.contains(value) {
            result = result.replacingOccurrences(of: value, with: "{{\(name)}}")
        }
        return result
    }

    private func scrub(_ value: JSONValue, ordered: [(value: String, name: String)]) -> JSONValue {
        switch value {
        case .string(let text): return .string(scrub(text, ordered: ordered))
        case .array(let elements): return .array(elements.map { scrub($0, ordered: ordered) })
        case .object(let members): return .object(members.map { JSONMember($0.key, scrub($0.value, ordered: ordered)) })
        default: return value
        }
    }
}
