/// Writes HTTP/1.1 message parts as bytes. Pure functions; no framing policy:
/// the caller decides between Content-Length, chunked, or close-delimited.
public enum HTTP1Serializer {
    /// `METHOD target HTTP/1.1\r\n` + fields + `\r\n`, header names as given.
    public static func requestHead(_ head: HTTPRequestHead) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: head.method.utf8); out.append(0x20)
        out.append(contentsOf: head.target.utf8); out.append(0x20)
        out.append(contentsOf: head.version.description.utf8)
        out.append(0x0D); out.append(0x0A)
        appendFields(head.headers, to: &out)
        return out
    }

    /// `HTTP/1.1 status reason\r\n` + fields + `\r\n`.
    public static func responseHead(_ head: HTTPResponseHead) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: head.version.description.utf8); out.append(0x20)
        out.append(contentsOf: String(head.status).utf8); out.append(0x20)
        out.append(contentsOf: head.reason.utf8)
        out.append(0x0D); out.append(0x0A)
        appendFields(head.headers, to: &out)
        return out
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
        for field in headers {
            out.append(contentsOf: field.name.utf8)
            out.append(0x3A); out.append(0x20)
            out.append(contentsOf: field.value.utf8)
            out.append(0x0D); out.append(0x0A)
        }
        out.append(0x0D); out.append(0x0A)
    }
}
