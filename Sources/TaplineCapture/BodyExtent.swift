/// A run of body bytes stored contiguously in one segment file
/// (`bodies/<segment, 6 digits>.bin`, bytes `offset ..< offset + length`).
public struct BodyExtent: Sendable, Equatable {
    public var segment: Int
    public var offset: UInt64
    public var length: UInt64

    public init(segment: Int, offset: UInt64, length: UInt64) {
        self.segment = segment
        self.offset = offset
        self.length = length
    }
}
