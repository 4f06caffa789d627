/// Size limits applied while parsing; exceeding one is a parse error.
public struct HTTP1Limits: Sendable, Equatable {
    /// Start line plus header section, in bytes (default 64 KiB).
    public var maxHeaderSectionBytes: Int
    /// Trailer section of a chunked message, in bytes.
    public var maxTrailerSectionBytes: Int
    /// Length of one chunk-size line including extensions.
    public var maxChunkLineBytes: Int

    public init(maxHeaderSectionBytes: Int = 64 * 1024, maxTrailerSectionBytes: Int = 64 * 1024,
                maxChunkLineBytes: Int = 4 * 1024) {
        self.maxHeaderSectionBytes = maxHeaderSectionBytes
        self.maxTrailerSectionBytes = maxTrailerSectionBytes
        self.maxChunkLineBytes = maxChunkLineBytes
    }
}
