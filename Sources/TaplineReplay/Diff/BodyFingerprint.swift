import TaplineTLS

/// A body named by its size and SHA-256, for bodies compared as opaque bytes. A value type.
public struct BodyFingerprint: Sendable, Equatable {
    public var size: Int
    /// 64 lowercase hex digits.
    public var sha256: String

    public init(_ bytes: [UInt8]) {
        size = bytes.count
        sha256 = SHA256Digest.hex(bytes)
    }
}
