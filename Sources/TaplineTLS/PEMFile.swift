import COpenSSL
import Glibc

/// Reads PEM certificates and private keys from files. Stateless; safe from
/// any thread (OpenSSL's error queue is per thread and is left empty).
///
/// The file is read whole (at most `maxFileBytes`) and parsed from memory, so
/// an unreadable file (missing, a directory, no permission) is told apart from
/// one that is readable but holds no PEM of the right kind. PEM blocks of other
/// kinds are skipped, so one file may hold a certificate chain and its key.
/// Every returned pointer is an owned reference the caller must free.
enum PEMFile {
    /// Certificate and key files are a few KiB; anything larger is not one.
    static let maxFileBytes = 1 << 20

    /// Every certificate in the file, in order (the first is the leaf). Never empty.
    static func certificates(at path: String) throws(PEMFileFailure) -> [OpaquePointer] {
        try certificates(inPEM: try contents(of: path))
    }

    /// Every certificate in PEM text already read (a roots bundle), in order. Never empty.
    static func certificates(inPEM bytes: [UInt8]) throws(PEMFileFailure) -> [OpaquePointer] {
        var certificates: [OpaquePointer] = []
        bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return }
            defer { BIO_free(bio) }
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(certificate)
            }
        }
        ERR_clear_error()  // the read that ended the loop (no more blocks) left an error
        guard !certificates.isEmpty else { throw .notPEM }
        return certificates
    }

    /// The first private key in the file (PKCS#8, or traditional EC/RSA).
    static func privateKey(at path: String) throws(PEMFileFailure) -> OpaquePointer {
        let bytes = try contents(of: path)
        let key: OpaquePointer? = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            // A password callback that refuses: never prompt on the terminal.
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in -1 }, nil)
        }
        ERR_clear_error()
        guard let key else {
            let text = String(decoding: bytes, as: UTF8.self)
            throw text.contains("ENCRYPTED") ? .encrypted : .notPEM
        }
        return key
    }

    /// The file's bytes; `.unreadable` beyond `maxBytes`.
    static func contents(of path: String, maxBytes: Int = maxFileBytes) throws(PEMFileFailure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(String(cString: strerror(errno)))
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: buffer.prefix(n))
            if bytes.count > maxBytes {
                throw .unreadable("larger than \(maxBytes / 1024) KiB, so not a PEM certificate or key file")
            }
        }
    }
}
