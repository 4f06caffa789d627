/// Which length-prefixed framing a gRPC body uses: both put each message behind a flag
/// byte and a 4-byte big-endian length (gRPC's PROTOCOL-HTTP2.md, "Length-Prefixed-Message").
public enum GRPCFraming: Sendable, Equatable {
    /// Native gRPC over HTTP/2: flag bit 0 is "compressed", the other seven are reserved.
    case grpc
    /// gRPC-Web (PROTOCOL-WEB.md): also flag bit 7, a trailer frame (the call's trailers
    /// as HTTP/1 header lines in the body, the response's last frame).
    case grpcWeb
}

extension GRPCFraming {
    /// The framing of a body whose bytes are the frames as sent, read from its
    /// `Content-Type`: `.grpc` for `application/grpc` and `application/grpc+…`,
    /// `.grpcWeb` for `application/grpc-web` and `application/grpc-web+…` (parameters
    /// ignored, case-insensitive). Nil for every other type, and for
    /// `application/grpc-web-text`, whose body is base64 of the frames.
    ///
    /// Checked for every request the capture records, so it rejects other types by
    /// their first bytes without allocating.
    public init?(framedContentType contentType: String) {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let utf8 = contentType.utf8.drop(while: isBlank)
        let prefix = "application/grpc".utf8
        guard utf8.count >= prefix.count,
              zip(utf8.prefix(prefix.count), prefix).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else { return nil }
        let subtypeRest = utf8.dropFirst(prefix.count).prefix { $0 != UInt8(ascii: ";") }
        let rest = String(decoding: subtypeRest.reversed().drop(while: isBlank).reversed(), as: UTF8.self).lowercased()
        if rest.isEmpty || rest.hasPrefix("+") {
            self = .grpc
        } else if rest == "-web" || rest.hasPrefix("-web+") {
            self = .grpcWeb
        } else {
            return nil
        }
    }
}
