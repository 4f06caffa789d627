import TaplineExport
import TaplineWire

/// Decides how two bodies are compared and compares them: equal bytes are equal;
/// WebSocket binary messages by size and SHA-256; then JSON structurally
/// (`JSONDiff`, when a side says it is JSON, or is a WebSocket text message, and
/// both parse), forms (urlencoded or multipart, `FormFields`) as field multisets,
/// UTF-8 text as a unified diff, anything else by size and SHA-256.
/// A body that is not whole (`ComparedBody.complete`) is compared only as far as
/// both sides were recorded and always reported (`.incomplete`). Pure. A value type.
public struct BodyComparison: Sendable {
    public var json: JSONDiff

    public init(json: JSONDiff = JSONDiff()) {
        self.json = json
    }

    /// nil when the bodies are equal.
    public func difference(_ a: ComparedBody, _ b: ComparedBody) -> BodyDifference? {
        guard a.complete && b.complete else { return .incomplete(Self.prefixComparison(a, b)) }
        if a.bytes == b.bytes { return nil }
        if a.origin == .binaryMessage || b.origin == .binaryMessage {
            return .binary(a: BodyFingerprint(a.bytes), b: BodyFingerprint(b.bytes))
        }
        if isJSONCandidate(a) || isJSONCandidate(b),
           let left = try? JSONParser.parse(a.bytes), let right = try? JSONParser.parse(b.bytes) {
            let changes = json.changes(from: left, to: right)
            return changes.isEmpty ? nil : .json(changes)
        }
        if let left = FormFields.fields(a.bytes, mediaType: a.mediaType),
           let right = FormFields.fields(b.bytes, mediaType: b.mediaType) {
            let changes = FieldDifference.multisetDifferences(left, right)
            return changes.isEmpty ? nil : .form(changes)
        }
        if let left = Self.text(a), let right = Self.text(b) {
            return UnifiedTextDiff(left, right).map(BodyDifference.text) ?? .binary(a: BodyFingerprint(a.bytes), b: BodyFingerprint(b.bytes))
        }
        return .binary(a: BodyFingerprint(a.bytes), b: BodyFingerprint(b.bytes))
    }

    private func isJSONCandidate(_ body: ComparedBody) -> Bool {
        body.origin == .textMessage || body.mediaType?.isJSON == true
    }

    /// The bytes as text when that is their faithful form (`LoadedBody.text`'s rule: UTF-8 without NUL,
    /// and without other control characters unless the Content-Type or the message type says text).
    static func text(_ body: ComparedBody) -> String? {
        let declaredTextual = body.origin == .textMessage || body.mediaType?.isTextual == true
        return LoadedBody(bytes: body.bytes, decoded: true, complete: true, wireSize: UInt64(body.bytes.count), note: nil)
            .text(declaredTextual: declaredTextual)
    }

    static func prefixComparison(_ a: ComparedBody, _ b: ComparedBody) -> IncompleteBodyComparison {
        let compared = min(a.bytes.count, b.bytes.count)
        let first = (0..<compared).first { a.bytes[$0] != b.bytes[$0] }
        return IncompleteBodyComparison(aReason: a.incompleteReason, bReason: b.incompleteReason,
                                        comparedBytes: compared, firstDifference: first)
    }
}
