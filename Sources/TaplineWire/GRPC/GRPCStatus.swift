/// The status a gRPC call ended with: its response's `grpc-status` and `grpc-message`
/// fields, found in the trailers, or in the head of a trailers-only response (gRPC's
/// PROTOCOL-HTTP2.md; the codes are those of its statuscodes.md).
///
/// A value type, usable from any thread.
public struct GRPCStatus: Equatable, Sendable {
    /// `grpc-status`: 0 (`OK`) to 16 for the codes gRPC defines; any other number is kept as sent.
    public let code: Int
    /// `grpc-message`, percent-decoded (gRPC percent-encodes bytes outside 0x20-0x7E
    /// and `%`); empty when the field is absent.
    public let message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    /// The status in `fields`; nil when they have no `grpc-status` that is a number.
    public init?(fields: HTTPHeaders) {
        guard let text = fields.first(name: "grpc-status"), let code = Int(text), code >= 0 else { return nil }
        self.init(code: code, message: fields.first(name: "grpc-message").map { PercentEncoding.decode($0) } ?? "")
    }

    private static let names = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    /// `OK`, `NOT_FOUND`, ...; `CODE_<n>` for a code gRPC does not define.
    public var name: String { code < Self.names.count ? Self.names[code] : "CODE_\(code)" }

    public var isOK: Bool { code == 0 }

    /// Whether a response with this `Content-Type` is gRPC: `application/grpc`, or
    /// `application/grpc+proto`, `application/grpc+json`, ... (parameters ignored).
    public static func isGRPC(contentType: String) -> Bool {
        contentType.withUTF8Bytes { isGRPC(contentType: $0) }
    }

    /// `isGRPC(contentType:)` on the field value's bytes (no `String` made for an ASCII
    /// one: asked for every flow a replay compares and the proxy logs).
    public static func isGRPC(contentType bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let name: StaticString = "application/grpc"
        let length = name.utf8CodeUnitCount
        // A value that does not start with the name's bytes (in any ASCII case) is not gRPC
        // as characters either (no other character lowercases to, or is canonically
        // equivalent to, one of the name's): most values are turned down here, before
        // their bytes are looked at one by one.
        guard bytes.count >= length,
              HTTPHeaders.bytesEqualIgnoringCase(UnsafeBufferPointer(rebasing: bytes[..<length]), name) else { return false }
        guard bytes.allSatisfy({ $0 < 0x80 }) else {
            let media = String(decoding: bytes, as: UTF8.self).prefix { $0 != ";" }.lowercased()
            return media == "application/grpc" || media.hasPrefix("application/grpc+")
        }
        let next = bytes.count > length ? bytes[length] : nil
        return next == nil || next == UInt8(ascii: ";") || next == UInt8(ascii: "+")
    }
}
