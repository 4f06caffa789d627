/// One length-prefixed frame of a gRPC body, located in that direction's byte stream.
///
/// The framer does not copy message bytes: `payloadRange` is where the payload lies,
/// counted in bytes from the start of the direction's body (the capture's body extent);
/// `payload(in:)` cuts it out of the stored body. A value type, usable from any thread.
public struct GRPCMessageFrame: Equatable, Sendable {
    /// The frame's first byte.
    public let flags: UInt8
    /// Where the frame's 5-byte prefix starts in the direction's stream.
    public let frameOffset: Int
    /// Where the payload lies in the direction's stream; its count is the declared length.
    public let payloadRange: Range<Int>

    public init(flags: UInt8, frameOffset: Int, payloadRange: Range<Int>) {
        self.flags = flags
        self.frameOffset = frameOffset
        self.payloadRange = payloadRange
    }

    /// The size of the flag byte and length prefix before each payload.
    public static let prefixSize = 5
    /// Flag bit 0: the payload is compressed with the call's `grpc-encoding`.
    public static let compressedFlag: UInt8 = 0x01
    /// Flag bit 7 (gRPC-Web only): the payload is the call's trailers.
    public static let trailersFlag: UInt8 = 0x80

    public var isCompressed: Bool { flags & Self.compressedFlag != 0 }
    /// The length the prefix declared.
    public var length: Int { payloadRange.count }

    /// The payload, cut from `body` (the direction's bytes from its first byte on).
    /// - Precondition: `body` holds at least `payloadRange.upperBound` bytes.
    public func payload(in body: [UInt8]) -> ArraySlice<UInt8> {
        body[payloadRange]
    }

    /// `payload` as one frame for sending: the flag byte (`flags`: 0, or `compressedFlag`
    /// for a payload already compressed), its length as 4 big-endian bytes, the payload.
    /// - Precondition: the payload is shorter than 4 GiB.
    public static func encoded(_ payload: some Collection<UInt8>, flags: UInt8 = 0) -> [UInt8] {
        precondition(payload.count <= Int(UInt32.max), "a gRPC message must be shorter than 4 GiB")
        var frame: [UInt8] = [flags]
        frame.reserveCapacity(prefixSize + payload.count)
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: payload)
        return frame
    }
}
