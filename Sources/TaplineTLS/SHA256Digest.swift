import COpenSSL

/// SHA-256 through OpenSSL's EVP interface, for comparing and naming byte
/// strings (binary bodies and WebSocket payloads in `tapline diff`). Stateless;
/// safe from any thread.
public enum SHA256Digest {
    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    public static func hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let succeeded = bytes.withUnsafeBytes { raw in
            EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil) == 1
        }
        // EVP_Digest fails only when OpenSSL cannot allocate a context; there is
        // nothing a caller could do then, and a digest is never silently wrong.
        precondition(succeeded, "OpenSSL EVP_Digest(SHA-256) failed")
        return OpenSSLSupport.hex(digest.prefix(Int(length)))
    }
}
