import FuzzDriver
import Foundation
import TaplineCapture

/// libFuzzer entry point for the capture reader's JSON parser (`CaptureJSONParser`).
/// Any input must parse or throw, never crash, trap or overflow the stack. Then:
/// - an error's offset lies inside the input (0 ... its length);
/// - input that is not UTF-8 is never accepted;
/// - the capture reader's direct line reader (`CaptureFlatLine`, through
///   `CaptureLineReaderAgreement`) declines the input or reads every member exactly
///   as the parser's tree has it;
/// - an accepted value re-encoded as compact JSON (`jsonText`) parses to the same
///   value, and encodes to the same text again;
/// - on UTF-8 input without NUL bytes (with them Foundation guesses UTF-16 or
///   UTF-32), the verdict and the value agree with JSONSerialization, except where
///   this parser is stricter on purpose: trailing commas, nesting deeper than its
///   limit (64; Foundation's is 512), and numbers beyond Double (Foundation converts
///   numbers late and never checks one whose key comes again: `{"a":1e400,"a":1}`).
/// Any difference is a bug in one of the two and stops the run with both answers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    var parsed: CaptureJSONValue?
    var failure: CaptureJSONParseError?
    do {
        parsed = try CaptureJSONParser.parse(input)
    } catch {
        failure = error
        if error.offset < 0 || error.offset > size { fatalError("error offset \(error.offset) outside 0...\(size): \(error)") }
    }
    if case .disagreed(let difference) = CaptureLineReaderAgreement.check(input) {
        fatalError("the direct line reader disagrees with the parser: \(difference)")
    }
    let isUTF8 = String(validating: input, as: UTF8.self) != nil
    if parsed != nil && !isUTF8 { fatalError("accepted input that is not UTF-8") }

    if let value = parsed {
        let text = value.jsonText
        guard let again = try? CaptureJSONParser.parse(Array(text.utf8)) else {
            fatalError("the encoding of an accepted value does not parse: \(text.debugDescription)")
        }
        if again != value { fatalError("round trip changed the value: \(value) vs \(again) via \(text.debugDescription)") }
        if again.jsonText != text { fatalError("encoding is not stable: \(text.debugDescription) vs \(again.jsonText.debugDescription)") }
    }

    guard isUTF8, !input.contains(0) else { return 0 }
    let foundation = try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed])
    switch (parsed, foundation) {
    case (let value?, let other?):
        if !FuzzCaptureJSONAgreement.matches(value, other) {
            fatalError("JSONSerialization reads another value: \(value) vs \(other)")
        }
    case (let value?, nil):
        fatalError("accepted what JSONSerialization rejects: \(value)")
    case (nil, _?):
        switch failure?.reason {
        case .trailingComma?, .tooDeep?, .numberOutOfRange?: break
        default: fatalError("rejected what JSONSerialization accepts: \(String(describing: failure))")
        }
    case (nil, nil):
        break
    }
    return 0
}

/// The executable's entry point (see FuzzDriver): libFuzzer calls `fuzz` per input.
@_cdecl("FuzzCaptureJSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
