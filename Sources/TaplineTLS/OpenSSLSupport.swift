import COpenSSL
import CTaplineShims

/// Small helpers over OpenSSL's C API shared by the TLS types: the error queue,
/// memory BIOs, PEM and fingerprints. Stateless; the error queue is per thread,
/// so every helper is safe from any thread.
enum OpenSSLSupport {
    /// Empties this thread's error queue and returns the reason of the first
    /// (root-cause) error, e.g. "tlsv1 alert unknown ca", or nil when empty.
    static func takeErrorReason() -> String? {
        var first: String?
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if first == nil {
                if let reason = ERR_reason_error_string(code) {
                    first = String(cString: reason)
                } else {
                    var buffer = [CChar](repeating: 0, count: 256)
                    ERR_error_string_n(code, &buffer, buffer.count)
                    first = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
        }
        return first
    }

    /// Everything readable in a memory BIO, as bytes.
    static func drain(bio: OpaquePointer) -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(bio))
        guard pending > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: pending) { buffer, count in
            let n = BIO_read(bio, buffer.baseAddress, Int32(clamping: pending))
            count = max(0, Int(n))
        }
    }

    /// Runs `write` against a fresh memory BIO and returns what it wrote as a
    /// string, or nil when `write` reported failure (returned <= 0) or no memory.
    static func string(writing write: (OpaquePointer) -> Int32) -> String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard write(bio) > 0 else { return nil }
        return String(decoding: drain(bio: bio), as: UTF8.self)
    }

    /// The certificate in PEM.
    static func pem(of certificate: OpaquePointer) -> String {
        string { PEM_write_bio_X509($0, certificate) } ?? ""
    }

    /// SHA-256 of the certificate's DER encoding, lowercase hex.
    static func sha256Fingerprint(of certificate: OpaquePointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else { return "" }
        return hex(digest.prefix(Int(length)))
    }

    /// An X.509 name as one RFC 2253 line ("CN=example.test,O=Tapline").
    static func rfc2253(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        return string { X509_NAME_print_ex($0, name, 0, tapline_xn_flag_rfc2253()) >= 0 ? 1 : 0 } ?? ""
    }

    /// Lowercase hex of `bytes`.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
