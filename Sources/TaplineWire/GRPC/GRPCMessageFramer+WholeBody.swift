extension GRPCMessageFramer {
    /// The events of a whole body read at once (a stored body, a request the mock holds):
    /// every event up to where the bytes stop being frames, and why they stopped (nil
    /// when they are whole frames to the end). Pure.
    public static func events(ofWholeBody bytes: [UInt8], framing: GRPCFraming,
                              maxMessageBytes: Int = Int(UInt32.max)) -> (events: [GRPCFramerEvent], failure: GRPCFramingError?) {
        var framer = GRPCMessageFramer(framing: framing, maxMessageBytes: maxMessageBytes)
        var events: [GRPCFramerEvent] = []
        do {
            try framer.consume(bytes[...], into: &events)
            try framer.finish()
        } catch {
            return (events, error)
        }
        return (events, nil)
    }
}
