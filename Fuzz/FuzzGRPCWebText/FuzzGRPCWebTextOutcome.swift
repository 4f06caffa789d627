import TaplineWire

/// Everything the gRPC-Web text decoder said about one body, comparable across splits.
struct FuzzGRPCWebTextOutcome: Equatable, CustomStringConvertible {
    var bytes: [UInt8] = []
    var error: GRPCWebTextError?

    var description: String { "\(bytes.count) bytes, error \(String(describing: error))" }

    /// Feeds `chunks` in order, then ends the body.
    static func decode(_ chunks: [ArraySlice<UInt8>]) -> FuzzGRPCWebTextOutcome {
        var decoder = GRPCWebTextDecoder()
        var outcome = FuzzGRPCWebTextOutcome()
        do throws(GRPCWebTextError) {
            for chunk in chunks { outcome.bytes += try decoder.decode(chunk) }
            try decoder.finish()
        } catch {
            outcome.error = error
        }
        return outcome
    }

    /// The reference for a body that decodes: each run (up to and including a group that
    /// ends in `=`, or the rest) decoded on its own with `Base64`; nil when one does not.
    static func decodeRunByRun(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var start = 0
        var index = 0
        while index < text.count {
            let groupEnd = index + 4
            if groupEnd <= text.count, text[groupEnd - 1] == UInt8(ascii: "=") || groupEnd == text.count {
                guard let run = Base64.decode(String(decoding: text[start..<groupEnd], as: UTF8.self)) else { return nil }
                out += run
                start = groupEnd
            }
            index = groupEnd
        }
        return start == text.count ? out : nil
    }
}
