import TaplineCompression

/// Compresses a gRPC message's protobuf bytes with the call's `grpc-encoding`, the inverse
/// of `GRPCMessageDecompressor` for the encodings it undoes: `gzip` (gzip container) and
/// `deflate` (zlib container, as gRPC sends it). Used when Tapline makes a message to send
/// (`tapline replay --edit` of a call recorded compressed). Stateless.
public enum GRPCMessageCompressor {
    /// - Throws: `unsupportedEncoding` for any other `grpc-encoding` (or none),
    ///   `failed` when zlib refuses.
    public static func compress(_ message: [UInt8], grpcEncoding: String?) throws(GRPCMessageDecodingError) -> [UInt8] {
        let tokens = ContentDecoder.codings(grpcEncoding ?? "")
        let format: ZlibFormat
        switch (tokens.first, tokens.count) {
        case ("gzip"?, 1): format = .gzip
        case ("deflate"?, 1): format = .zlib(windowBits: 15)
        case (nil, _): throw .compressedWithoutEncoding
        default: throw .unsupportedEncoding(tokens.joined(separator: ", "))
        }
        do throws(CompressionError) {
            return try ZlibDeflater.compress(message, format: format)
        } catch {
            throw .failed(encoding: tokens[0], reason: error)
        }
    }
}
