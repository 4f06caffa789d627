/// The container around DEFLATE data (RFC 1951): none, zlib (RFC 1950) or gzip (RFC 1952).
public enum ZlibFormat: Sendable, Equatable {
    /// Raw DEFLATE, as permessage-deflate (RFC 7692) carries it. `windowBits` is 8...15
    /// (the LZ77 window is 2^windowBits bytes).
    case raw(windowBits: Int)
    /// zlib header and Adler-32 trailer: HTTP `Content-Encoding: deflate`.
    case zlib(windowBits: Int)
    /// gzip header and CRC-32 trailer: HTTP `Content-Encoding: gzip`. A window of 2^15.
    case gzip
    /// Decompression only: zlib or gzip, whichever the header says.
    case zlibOrGzip

    /// The `windowBits` argument of `inflateInit2`/`deflateInit2` for this format.
    /// - Throws: `CompressionError.invalidParameters` for window bits outside 8...15.
    func zlibWindowBits() throws(CompressionError) -> Int32 {
        switch self {
        case .raw(let bits):
            try Self.check(bits)
            return -Int32(bits)
        case .zlib(let bits):
            try Self.check(bits)
            return Int32(bits)
        case .gzip:
            return 16 + 15
        case .zlibOrGzip:
            return 32 + 15
        }
    }

    private static func check(_ bits: Int) throws(CompressionError) {
        guard (8...15).contains(bits) else {
            throw .invalidParameters("window bits must be 8...15, got \(bits)")
        }
    }
}
