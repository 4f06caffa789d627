import Foundation
import TaplineFlow
import TaplineWire

/// One `tapline replay --edit FLOW=FILE.json`: the flow whose request message is replaced,
/// and the JSON document read from FILE. A value type.
struct ReplayEditOption {
    let flow: FlowID
    let file: String
    let json: JSONValue

    /// Parses `FLOW=FILE.json` and reads FILE as JSON.
    /// - Throws: a `UsageError` for a malformed option, a file that cannot be read or is not JSON.
    init(_ text: String) throws(UsageError) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let id = UInt64(parts[0].trimmingCharacters(in: .whitespaces)), !parts[1].isEmpty else {
            throw UsageError("--edit takes FLOW=FILE.json, e.g. 3=request.json, not \(text.debugDescription)")
        }
        guard let data = FileManager.default.contents(atPath: parts[1]) else {
            throw UsageError("--edit: cannot read \(parts[1])")
        }
        do {
            json = try JSONParser.parse(Array(data))
        } catch {
            throw UsageError("--edit: \(parts[1]) is not JSON: \(error)")
        }
        flow = FlowID(id)
        file = parts[1]
    }
}
