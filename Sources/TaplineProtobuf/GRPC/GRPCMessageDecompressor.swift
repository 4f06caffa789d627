import TaplineCompression

/// Undoes a gRPC message's compression for display and the capture (never for
/// forwarding): a message whose compressed flag is set was compressed with the call's
/// `grpc-encoding` (gRPC's compression.md). `gzip` (gzip container) and `deflate` (zlib
/// container, as gRPC sends it; raw DEFLATE accepted too) go through TaplineCompression's
/// `ZlibInflater`, bounded by `maxOutputBytes` like the HTTP body decoders, so a small
/// message cannot expand past the limit in memory. Stateless.
public enum GRPCMessageDecompressor {
    /// The default output bound: 64 MiB, as for HTTP bodies (`ContentDecoder`).
    public static let defaultMaxOutputBytes = 64 << 20

    /// The `grpc-encoding` values this decompressor undoes.
    public static let supportedEncodings = ["identity", "gzip", "deflate"]

    /// The message's protobuf bytes.
    /// - Parameters:
    ///   - payload: the message as framed (`GRPCMessageFrame.payload(in:)`).
    ///   - compressed: the frame's compressed flag; when false the payload is returned as is.
    ///   - grpcEncoding: the call's `grpc-encoding` field value for this direction, if any.
    /// - Throws: `unsupportedEncoding`, `compressedWithoutEncoding`, `failed`.
    public static func decompress(_ payload: ArraySlice<UInt8>, compressed: Bool, grpcEncoding: String?,
                                  maxOutputBytes: Int = defaultMaxOutputBytes) throws(GRPCMessageDecodingError) -> [UInt8] {
        guard compressed else { return Array(payload) }
        // The token, trimmed and lower-cased; none for `identity` or an absent field.
        let tokens = ContentDecoder.codings(grpcEncoding ?? "")
        guard let encoding = tokens.first else { throw .compressedWithoutEncoding }
        let coding: ContentCoding
        switch (encoding, tokens.count) {
        case ("gzip", 1): coding = .gzip
        case ("deflate", 1): coding = .deflate
        default: throw .unsupportedEncoding(tokens.joined(separator: ", "))
        }
        do throws(CompressionError) {
            return try ContentDecoder.decode(Array(payload), coding: coding, maxOutputBytes: maxOutputBytes)
        } catch {
            throw .failed(encoding: encoding, reason: error)
        }
    }
}
