import COpenSSL

/// A SHA-256 over bytes handed over in pieces (`update`), through OpenSSL's EVP
/// interface: for a body too large to hold whole (`tapline mock` names a request body
/// over its limit by size and digest). Holds OpenSSL's digest context (a few hundred
/// bytes), whatever the input's size. `SHA256Digest.hex` is the one-call form.
///
/// Invariant: after `finishHex` it takes no more input. Not thread-safe: one owner at a time.
public final class SHA256Hasher {
    private let context: OpaquePointer
    private var finished = false

    public init() {
        // Either fails only when OpenSSL cannot allocate; there is nothing a caller could
        // do then, and a digest is never silently wrong.
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("OpenSSL EVP_MD_CTX_new failed") }
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "OpenSSL EVP_DigestInit_ex(SHA-256) failed")
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `bytes` to what is digested.
    public func update(_ bytes: ArraySlice<UInt8>) {
        precondition(!finished, "SHA256Hasher.update after finishHex")
        guard !bytes.isEmpty else { return }
        let succeeded = bytes.withUnsafeBytes { raw in EVP_DigestUpdate(context, raw.baseAddress, raw.count) == 1 }
        precondition(succeeded, "OpenSSL EVP_DigestUpdate(SHA-256) failed")
    }

    /// The SHA-256 of every byte given, as 64 lowercase hex digits; ends the hasher.
    public func finishHex() -> String {
        precondition(!finished, "SHA256Hasher.finishHex called twice")
        finished = true
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &digest, &length) == 1, "OpenSSL EVP_DigestFinal_ex(SHA-256) failed")
        return OpenSSLSupport.hex(digest.prefix(Int(length)))
    }
}
