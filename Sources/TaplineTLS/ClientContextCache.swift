import Foundation

/// The process-wide client `SSL_CTX`s, one per distinct (verifyPeer,
/// additionalTrustPEMFile), so that a client `TLSEngine` costs one `SSL_new`.
///
/// Thread-safe (a lock around the dictionary). A context is built once and kept
/// for the life of the process: a trust file edited afterwards is not re-read.
/// Failures are not cached, so a fixed file works on the next connection.
final class ClientContextCache: @unchecked Sendable {
    static let shared = ClientContextCache()

    private struct Key: Hashable {
        var verifyPeer: Bool
        var additionalTrustPEMFile: String?
    }

    private let lock = NSLock()
    private var contexts: [Key: SSLContext] = [:]

    func context(for configuration: TLSClientConfiguration) throws(TLSError) -> SSLContext {
        let key = Key(verifyPeer: configuration.verifyPeer, additionalTrustPEMFile: configuration.additionalTrustPEMFile)
        lock.lock()
        defer { lock.unlock() }
        if let context = contexts[key] { return context }
        // Built under the lock: rare (once per distinct key), and it keeps two
        // threads from loading the system store twice.
        let context = try SSLContext.makeClient(verifyPeer: key.verifyPeer, additionalTrustPEMFile: key.additionalTrustPEMFile)
        contexts[key] = context
        return context
    }
}
