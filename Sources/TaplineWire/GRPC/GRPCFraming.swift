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
    public init?(framedContentType contentType: String) {
        var text = contentType
        guard let framing = text.withUTF8(Self.framing(ofContentType:)) else { return nil }
        self = framing
    }

    /// `init(framedContentType:)` on the first `Content-Type` field of `headers`; nil
    /// without one. Checked for every request and response the capture records, so it
    /// reads the field's bytes in place and allocates nothing.
    public init?(framedContentTypeOf headers: HTTPHeaders) {
        guard let framing = headers.withUnsafeFieldBytes({ fields in
            fields.firstIndex(name: "content-type").flatMap { Self.framing(ofContentType: fields.value($0)) }
        }) else { return nil }
        self = framing
    }

    /// The framing a `Content-Type` value's bytes name (see `init(framedContentType:)`).
    /// Other types are rejected by two 8-byte comparisons: every byte of
    /// `application/grpc` is a lower-case letter or `/`, which OR 0x20 leaves unchanged
    /// and OR 0x20 maps upper-case letters onto (a control byte could pass for `/`, and
    /// then the body is only split, never changed).
    private static func framing(ofContentType bytes: UnsafeBufferPointer<UInt8>) -> GRPCFraming? {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let base = bytes.baseAddress else { return nil }
        var start = 0
        while start < bytes.count, isBlank(bytes[start]) { start += 1 }
        guard bytes.count - start >= 16 else { return nil }
        let raw = UnsafeRawPointer(base + start)
        let lowerCaseBits: UInt64 = 0x2020_2020_2020_2020
        guard raw.loadUnaligned(as: UInt64.self) | lowerCaseBits == applicationGRPC.0,
              raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) | lowerCaseBits == applicationGRPC.1 else { return nil }
        var end = start + 16
        while end < bytes.count, bytes[end] != UInt8(ascii: ";") { end += 1 }
        while end > start + 16, isBlank(bytes[end - 1]) { end -= 1 }
        let rest = UnsafeBufferPointer(rebasing: bytes[(start + 16)..<end])
        if rest.isEmpty || rest[0] == UInt8(ascii: "+") { return .grpc }
        guard rest.count >= 4, rest[0] == UInt8(ascii: "-"), rest[1] | 0x20 == UInt8(ascii: "w"),
              rest[2] | 0x20 == UInt8(ascii: "e"), rest[3] | 0x20 == UInt8(ascii: "b") else { return nil }
        return rest.count == 4 || rest[4] == UInt8(ascii: "+") ? .grpcWeb : nil
    }

    /// `application/grpc` as two 8-byte words in memory order.
    private static let applicationGRPC: (UInt64, UInt64) = {
        let text = Array("application/grpc".utf8)
        return text.withUnsafeBytes { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }()
}
