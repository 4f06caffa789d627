/// Writes HTTP/1.1 message parts as bytes. Pure functions; no framing policy:
/// the caller decides between Content-Length, chunked, or close-delimited.
public enum HTTP1Serializer {
    /// `METHOD target HTTP/1.1\r\n` + fields + `\r\n`, header names as given.
    public static func requestHead(_ head: HTTPRequestHead) -> [UInt8] {
        let version = versionText(head.version)
        return [UInt8](unsafeUninitializedCapacity: requestHeadSize(head, version: version)) { buffer, count in
            count = writeRequestHead(head, version: version, at: buffer.baseAddress.unsafelyUnwrapped)  // size > 0
        }
    }

    /// Calls `body` with the bytes `requestHead(head)` returns, written into a buffer
    /// that lives only during the call (on the stack when small: the temporary
    /// allocation's own rule), for a caller that copies them anyway (a stream's
    /// `write`): no array is allocated and released per head.
    /// (Not generic, so that it is compiled for its one use here rather than run
    /// unspecialized from another module.)
    public static func withRequestHead(_ head: HTTPRequestHead, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let version = versionText(head.version)
        let size = requestHeadSize(head, version: version)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: size) { buffer in
            let start = buffer.baseAddress.unsafelyUnwrapped  // size > 0
            let count = writeRequestHead(head, version: version, at: start)
            body(UnsafeBufferPointer(start: start, count: count))
            start.deinitialize(count: count)
        }
    }

    /// The bytes of a request head: its start line and fields (`fieldsSize`).
    private static func requestHeadSize(_ head: HTTPRequestHead, version: String) -> Int {
        head.method.utf8.count + 1 + head.target.utf8.count + 1 + version.utf8.count + 2 + fieldsSize(head.headers)
    }

    /// Writes the request head at `start`, which has room for `requestHeadSize` bytes;
    /// returns the bytes written.
    private static func writeRequestHead(_ head: HTTPRequestHead, version: String,
                                         at start: UnsafeMutablePointer<UInt8>) -> Int {
        var writer = HeadWriter(start)
        writer.string(head.method); writer.byte(0x20)
        writer.string(head.target); writer.byte(0x20)
        writer.string(version); writer.byte(0x0D); writer.byte(0x0A)
        writer.fields(head.headers)
        return writer.written(since: start)
    }

    /// `HTTP/1.1 status reason\r\n` + fields + `\r\n`.
    public static func responseHead(_ head: HTTPResponseHead) -> [UInt8] {
        let version = versionText(head.version)
        let status = (100...999).contains(head.status) ? "" : String(head.status)
        let size = version.utf8.count + 1 + (status.isEmpty ? 3 : status.utf8.count) + 1 + head.reason.utf8.count + 2
            + fieldsSize(head.headers)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var writer = HeadWriter(buffer.baseAddress.unsafelyUnwrapped)  // size > 0
            writer.string(version); writer.byte(0x20)
            if status.isEmpty {
                writer.byte(0x30 + UInt8(head.status / 100))
                writer.byte(0x30 + UInt8(head.status / 10 % 10))
                writer.byte(0x30 + UInt8(head.status % 10))
            } else {
                writer.string(status)
            }
            writer.byte(0x20)
            writer.string(head.reason); writer.byte(0x0D); writer.byte(0x0A)
            writer.fields(head.headers)
            count = writer.written(since: buffer.baseAddress.unsafelyUnwrapped)
        }
    }

    /// The version as it appears on the wire; the usual ones without building a String.
    private static func versionText(_ version: HTTPVersion) -> String {
        switch version {
        case .http1_1: return "HTTP/1.1"
        case .http1_0: return "HTTP/1.0"
        default: return version.description
        }
    }

    /// Bytes of `name: value\r\n` for every field plus the final `\r\n`.
    private static func fieldsSize(_ headers: HTTPHeaders) -> Int {
        headers.byteCount + headers.count * 4 + 2
    }

    /// Writes head parts into a buffer sized by the caller (no bounds checks: the
    /// sizes are computed from the same strings first).
    private struct HeadWriter {
        var at: UnsafeMutablePointer<UInt8>

        init(_ start: UnsafeMutablePointer<UInt8>) { at = start }

        mutating func byte(_ value: UInt8) {
            at.pointee = value
            at += 1
        }

        mutating func string(_ text: String) {
            text.withUTF8Bytes { bytes($0) }
        }

        mutating func bytes(_ bytes: UnsafeBufferPointer<UInt8>) {
            if let source = bytes.baseAddress { at.update(from: source, count: bytes.count) }
            at += bytes.count
        }

        mutating func fields(_ headers: HTTPHeaders) {
            headers.withUnsafeFieldBytes { fields in
                for index in 0..<fields.count {
                    bytes(fields.name(index)); byte(0x3A); byte(0x20)
                    bytes(fields.value(index)); byte(0x0D); byte(0x0A)
                }
            }
            byte(0x0D); byte(0x0A)
        }

        func written(since start: UnsafeMutablePointer<UInt8>) -> Int { at - start }
    }

    /// One chunk of a chunked body: `size-in-hex\r\n` bytes `\r\n`. Empty input gives nothing.
    public static func chunk(_ bytes: some Collection<UInt8>) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var out: [UInt8] = Array(String(bytes.count, radix: 16).utf8)
        out.reserveCapacity(out.count + bytes.count + 4)
        out.append(0x0D); out.append(0x0A)
        out.append(contentsOf: bytes)
        out.append(0x0D); out.append(0x0A)
        return out
    }

    /// The last chunk `0\r\n`, then trailers, then `\r\n`.
    public static func lastChunk(trailers: HTTPHeaders?) -> [UInt8] {
        var out: [UInt8] = [0x30, 0x0D, 0x0A]
        appendFields(trailers ?? HTTPHeaders(), to: &out)
        return out
    }

    private static func appendFields(_ headers: HTTPHeaders, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + fieldsSize(headers))
        headers.withUnsafeFieldBytes { fields in
            for index in 0..<fields.count {
                out.append(contentsOf: fields.name(index))
                out.append(0x3A); out.append(0x20)
                out.append(contentsOf: fields.value(index))
                out.append(0x0D); out.append(0x0A)
            }
        }
        out.append(0x0D); out.append(0x0A)
    }
}
