import TaplineWire

/// Everything the framer said about one input, comparable across splits.
struct FuzzGRPCFramerOutcome: Equatable, CustomStringConvertible {
    var events: [GRPCFramerEvent] = []
    var error: GRPCFramingError?

    var description: String { "\(events.count) events, error \(String(describing: error))" }

    /// Feeds `chunks` in order, then ends the stream.
    static func frame(_ chunks: [ArraySlice<UInt8>], framing: GRPCFraming, maxMessageBytes: Int) -> FuzzGRPCFramerOutcome {
        var framer = GRPCMessageFramer(framing: framing, maxMessageBytes: maxMessageBytes)
        var outcome = FuzzGRPCFramerOutcome()
        do {
            for chunk in chunks { try framer.consume(chunk, into: &outcome.events) }
            try framer.finish()
        } catch {
            outcome.error = error
        }
        return outcome
    }
}
