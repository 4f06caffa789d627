import TaplineCapture

/// Moves JSON values between the capture reader's model (`CaptureJSONValue`, what
/// `extension` lines hold) and the exporters' (`JSONValue`), through their text: each
/// side keeps its own parser, nothing is parsed twice by hand. Values keep their
/// meaning; a number's spelling may change (`1e3` comes back as `1000.0`).
extension JSONValue {
    /// The capture form of this value, for an `extension` line; nil when it is nested
    /// too deeply for the reader to take that line back (the line's object is one
    /// level more than `CaptureJSONParser.defaultMaxDepth` allows for the value).
    var captureValue: CaptureJSONValue? {
        try? CaptureJSONParser.parse(Array(JSONWriter.text(self, indent: nil).utf8),
                                     maxDepth: CaptureJSONParser.defaultMaxDepth - 1)
    }

    /// The value a capture `extension` line held.
    init?(capture value: CaptureJSONValue) {
        guard let parsed = try? JSONParser.parse(value.jsonText) else { return nil }
        self = parsed
    }
}
