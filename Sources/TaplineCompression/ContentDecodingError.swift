/// Why a body could not be decoded for display or export.
public enum ContentDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A `Content-Encoding` token Tapline does not decode (e.g. `compress`, `x-custom`).
    case unsupportedCoding(String)
    /// The bytes are not valid data of `coding`, or decoding would exceed the size limit.
    case failed(coding: String, reason: CompressionError)

    public var description: String {
        switch self {
        case .unsupportedCoding(let name):
            return "content coding \(name.debugDescription) is not supported (gzip, deflate, br, zstd are)"
        case .failed(let coding, let reason):
            return "cannot decode the \(coding) body: \(reason)"
        }
    }
}
