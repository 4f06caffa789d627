/// Decodes an `application/grpc-web-text` body (gRPC's PROTOCOL-WEB.md): base64 of the
/// gRPC-Web frames, as one run or as several padded runs back to back (a sender may
/// encode each write on its own), however the text is cut across chunks.
///
/// Sans-I/O and streaming: `decode` takes the next characters and returns the bytes of
/// every whole 4-character group among them, keeping at most 3 characters of a cut
/// group; `finish` says whether the body ended between groups. Each group is decoded
/// with the project's one `Base64`; a group with `=` padding ends its run, and the next
/// character starts a new one. **Invariant: the bytes and the error do not depend on
/// how the text was split** (unit test: every split offset). After an error the decoder
/// stays failed. A value type, usable from any thread.
public struct GRPCWebTextDecoder: Sendable {
    /// Characters of a group cut by the end of the last chunk (at most 3).
    private var pending: [UInt8] = []
    /// Characters consumed so far (for error offsets).
    private var consumed = 0
    private var failure: GRPCWebTextError?

    public init() {}

    /// The bytes that `text`, after the characters already given, completes.
    public mutating func decode(_ text: some Collection<UInt8>) throws(GRPCWebTextError) -> [UInt8] {
        if let failure { throw failure }
        var out: [UInt8] = []
        out.reserveCapacity((pending.count + text.count) / 4 * 3)
        var run: [UInt8] = []
        /// Where `run` (whole groups of one run, padding only in its last) starts in the text.
        var runStart = consumed - pending.count
        run.reserveCapacity(pending.count + text.count)
        run += pending
        pending.removeAll(keepingCapacity: true)
        func flush(upTo end: Int) throws(GRPCWebTextError) {
            guard end > 0 else { return }
            guard let bytes = Base64.decode(String(decoding: run[..<end], as: UTF8.self)) else {
                let failure = GRPCWebTextError.invalidGroup(offset: runStart + firstBadGroup(run[..<end]))
                self.failure = failure
                throw failure
            }
            out += bytes
            run.removeFirst(end)
            runStart += end
        }
        for character in text {
            run.append(character)
            consumed += 1
            // A whole group that ends in padding closes its run.
            if run.count % 4 == 0, character == UInt8(ascii: "=") {
                try flush(upTo: run.count)
            }
        }
        try flush(upTo: run.count - run.count % 4)
        pending = run
        return out
    }

    /// The body ended: throws when it ended inside a group (or had failed).
    public func finish() throws(GRPCWebTextError) {
        if let failure { throw failure }
        if !pending.isEmpty { throw .unfinishedGroup(count: pending.count) }
    }

    /// The offset in `groups` of the first 4-character group that does not decode alone.
    private func firstBadGroup(_ groups: ArraySlice<UInt8>) -> Int {
        var offset = 0
        while offset + 4 <= groups.count {
            let start = groups.startIndex + offset
            if Base64.decode(String(decoding: groups[start..<start + 4], as: UTF8.self)) == nil { return offset }
            offset += 4
        }
        return offset
    }

    /// A whole stored text body decoded at once, for reading a capture: the bytes of its
    /// whole groups (a body the capture cut inside a group loses that group's few bytes,
    /// and the message they belong to shows as incomplete); nil when it is not gRPC-Web text.
    public static func decodeStored(_ text: some Collection<UInt8>) -> [UInt8]? {
        var decoder = GRPCWebTextDecoder()
        return try? decoder.decode(text)
    }
}
