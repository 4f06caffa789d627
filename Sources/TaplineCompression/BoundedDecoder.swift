/// What the streaming decoders of this module share (`BrotliDecoder`,
/// `ZstdDecoder`): a bounded output and typed errors, fed from `[UInt8]`
/// through `run` (one chunk of compressed input; call it in order). The
/// extension supplies the array entry points once.
public protocol BoundedDecoder: AnyObject {
    init(maxOutputBytes: Int) throws(CompressionError)
    /// Decodes `input`, appending to `output`.
    func run(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CompressionError)
    /// Throws `truncated` unless the stream ended.
    func finish() throws(CompressionError)
}

extension BoundedDecoder {
    /// Decompresses `input` and appends what it yields to `output`.
    public func decompress(_ input: [UInt8], into output: inout [UInt8]) throws(CompressionError) {
        let result: Result<Void, CompressionError> = input.withUnsafeBytes { buffer in
            do throws(CompressionError) {
                try run(buffer, into: &output)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Decompresses a whole buffer and checks it is complete.
    public static func decompress(_ input: [UInt8], maxOutputBytes: Int = 64 << 20) throws(CompressionError) -> [UInt8] {
        let decoder = try Self(maxOutputBytes: maxOutputBytes)
        var output: [UInt8] = []
        try decoder.decompress(input, into: &output)
        try decoder.finish()
        return output
    }
}
