extension GRPCMessageFrame {
    /// gRPC-Web's trailer frame for `trailers` (PROTOCOL-WEB.md): flag 0x80, then the
    /// fields as HTTP/1 header lines, `name: value\r\n` with names lower-cased, in order.
    /// What `GRPCMessageFramer` with `.grpcWeb` parses back into the same fields.
    public static func encodedWebTrailers(_ trailers: HTTPHeaders) -> [UInt8] {
        var block: [UInt8] = []
        for field in trailers {
            block += field.name.lowercased().utf8
            block += [UInt8(ascii: ":"), UInt8(ascii: " ")]
            block += field.value.utf8
            block += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
        }
        return encoded(block, flags: trailersFlag)
    }
}
