import COpenSSL
import CTaplineShims

/// Sans-I/O TLS endpoint over OpenSSL memory BIOs, in either role.
///
/// Feed ciphertext from the peer with `receive(ciphertext:)`; it returns all
/// plaintext that decrypted. Hand plaintext to send to `send(plaintext:)`.
/// After every call (including one that threw: a failed handshake leaves its
/// alert there), drain `takeOutgoingCiphertext()` and write it to the socket.
///
/// Invariants:
/// - One `SSL` with two memory BIOs it owns: the read BIO holds ciphertext fed
///   by `receive` and not yet consumed; the write BIO holds ciphertext that
///   `takeOutgoingCiphertext` has not yet taken. Memory BIOs grow, so OpenSSL
///   never blocks on writing; it only ever waits for more input (WANT_READ).
/// - Plaintext sent before the handshake completes is queued, in order, and
///   written as soon as it does.
/// - Once an operation has failed, the engine is `.closed` and every later
///   `receive`/`send` throws that same error.
/// - TLS 1.2 and 1.3 only. The `SSL_CTX` is shared (one per client
///   configuration process-wide, one per `LeafCertificate`), so creating an
///   engine per connection costs one `SSL_new`.
///
/// Not thread-safe: owned by one connection on one event loop thread, which
/// makes every call (OpenSSL's callbacks run inside those calls).
public final class TLSEngine {
    public enum State: Sendable, Equatable { case handshaking, established, closed }

    private enum Role { case client, server }

    private let ssl: OpaquePointer
    /// Owned by `ssl` (SSL_set_bio); valid as long as `ssl` is.
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer
    private let role: Role
    private let verifiesPeer: Bool
    /// Server role: the ALPN protocol to select when offered (read by the ALPN callback).
    let alpnToSelect: [UInt8]?

    private var currentState: State = .handshaking
    private var handshakeCompleted = false
    private var pendingPlaintext: [UInt8] = []
    private var failure: TLSError?
    private var receivedCloseNotify = false
    private var cachedPeerCertificate: PeerCertificate??

    /// The most recent alert sent or received (close_notify included).
    public private(set) var lastAlert: TLSAlert?

    /// A client engine toward an upstream. Sends SNI unless `serverName` is an IP
    /// literal; verifies the chain and the name (DNS or IP) unless `verifyPeer` is off.
    public init(client configuration: TLSClientConfiguration) throws(TLSError) {
        let context = try ClientContextCache.shared.context(for: configuration)
        let alpnWire = try Self.alpnWireFormat(configuration.alpn)
        let (ssl, readBIO, writeBIO) = try Self.makeSSL(context)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        self.role = .client
        self.verifiesPeer = configuration.verifyPeer
        self.alpnToSelect = nil
        try attachToSSL()  // from here on, deinit frees `ssl`

        SSL_set_connect_state(ssl)
        let name = HostName.normalized(configuration.serverName)
        let isIP = HostName.isIPLiteral(name)
        if !isIP, !name.isEmpty, tapline_ssl_set_tlsext_host_name(ssl, name) != 1 {
            throw .protocolError("cannot send SNI \"\(configuration.serverName)\": \(OpenSSLSupport.takeErrorReason() ?? "invalid name")")
        }
        if configuration.verifyPeer {
            guard !name.isEmpty else {
                throw .protocolError("cannot verify an upstream without a server name; give one or use --insecure")
            }
            let ok: Bool
            if isIP {
                ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
            } else {
                SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                ok = SSL_set1_host(ssl, name) == 1
            }
            if !ok {
                throw .protocolError("cannot verify against the name \"\(configuration.serverName)\": \(OpenSSLSupport.takeErrorReason() ?? "invalid name")")
            }
        }
        if !alpnWire.isEmpty, SSL_set_alpn_protos(ssl, alpnWire, UInt32(alpnWire.count)) != 0 {
            throw .protocolError("cannot offer ALPN \(configuration.alpn): \(OpenSSLSupport.takeErrorReason() ?? "unknown error")")
        }
    }

    /// A server engine toward an intercepted client, presenting the leaf (then the
    /// CA) of `configuration.certificate` and selecting `configuration.alpn` when offered.
    public init(server configuration: TLSServerConfiguration) throws(TLSError) {
        let (ssl, readBIO, writeBIO) = try Self.makeSSL(configuration.certificate.serverContext)
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO
        self.role = .server
        self.verifiesPeer = false
        self.alpnToSelect = configuration.alpn.map { Array($0.utf8) }
        try attachToSSL()
        SSL_set_accept_state(ssl)
    }

    deinit {
        SSL_set_ex_data(ssl, TLSCallbacks.engineSlot, nil)
        SSL_free(ssl)  // frees both BIOs
    }

    public var state: State { currentState }

    /// Feeds bytes from the peer; returns all decrypted application data (maybe
    /// empty). Drives the handshake while it is in progress. Throws on handshake
    /// failure, verification failure or a protocol error (plaintext decrypted in
    /// the same call before the error is dropped: the connection is unusable).
    /// After `close()`, input is still read so that the peer's close_notify is seen.
    public func receive(ciphertext: some Collection<UInt8>) throws(TLSError) -> [UInt8] {
        if let failure { throw failure }
        try feed(ciphertext)
        if currentState == .handshaking {
            try driveHandshake()
            if currentState == .handshaking { return [] }
        }
        guard handshakeCompleted else { return [] }  // closed before the handshake finished
        return try readAvailable()
    }

    /// Encrypts application data; queued (in order) until the handshake is done.
    /// Throws after `close()` or a failure.
    public func send(plaintext: some Collection<UInt8>) throws(TLSError) {
        if let failure { throw failure }
        guard currentState != .closed else { throw .protocolError("cannot send on a TLS connection after close()") }
        guard !plaintext.isEmpty else { return }
        if currentState == .established, pendingPlaintext.isEmpty {
            let written: Int? = plaintext.withContiguousStorageIfAvailable { write($0) }
                ?? Array(plaintext).withUnsafeBufferPointer { write($0) }
            guard let written else { throw fail(readWriteError(while: "writing")) }
            if written < plaintext.count { pendingPlaintext.append(contentsOf: plaintext.dropFirst(written)) }
        } else {
            pendingPlaintext.append(contentsOf: plaintext)
            if currentState == .established { try flushPending() }
        }
    }

    /// Starts the handshake (client role: produces the ClientHello). A server
    /// engine needs no call: the first `receive` starts it.
    public func startHandshake() throws(TLSError) {
        if let failure { throw failure }
        if currentState == .handshaking { try driveHandshake() }
    }

    /// Bytes to write to the socket now (empty when there are none).
    public func takeOutgoingCiphertext() -> [UInt8] {
        OpenSSLSupport.drain(bio: writeBIO)
    }

    /// True when `takeOutgoingCiphertext()` would return bytes.
    public var hasOutgoingCiphertext: Bool { BIO_ctrl_pending(writeBIO) > 0 }

    /// Queues close_notify (after any queued plaintext) and moves to `.closed`.
    /// Before the handshake completed there is nothing to close: queued plaintext
    /// is dropped and no alert is sent. Idempotent.
    public func close() {
        guard currentState != .closed else { return }
        if currentState == .established {
            if !pendingPlaintext.isEmpty { try? flushPending() }
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        pendingPlaintext = []
        currentState = .closed
    }

    /// True once the peer has sent close_notify (no more plaintext will arrive;
    /// sending still works until `close()`).
    public var peerClosed: Bool { receivedCloseNotify }

    // MARK: Negotiated parameters (nil until the handshake completed)

    /// "TLSv1.3" or "TLSv1.2".
    public var protocolVersion: String? {
        guard handshakeCompleted, let version = SSL_get_version(ssl) else { return nil }
        return String(cString: version)
    }

    /// The cipher suite's IANA name, e.g. "TLS_AES_256_GCM_SHA384" or
    /// "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".
    public var cipherName: String? {
        guard handshakeCompleted, let cipher = SSL_get_current_cipher(ssl) else { return nil }
        if let standard = SSL_CIPHER_standard_name(cipher) { return String(cString: standard) }
        return SSL_CIPHER_get_name(cipher).map { String(cString: $0) }
    }

    /// The protocol both sides agreed on with ALPN, or nil when none was.
    public var negotiatedALPN: String? {
        guard handshakeCompleted else { return nil }
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Server role: the SNI the client sent (available as soon as the ClientHello
    /// has been processed). Client role: the SNI this engine sent.
    public var serverName: String? {
        guard let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: name)
    }

    /// The peer's leaf certificate: the upstream's in the client role (nil in the
    /// server role: clients are not asked for certificates).
    public var peerCertificate: PeerCertificate? {
        if let cachedPeerCertificate { return cachedPeerCertificate }
        guard handshakeCompleted else { return nil }
        var result: PeerCertificate?
        if let cert = SSL_get0_peer_certificate(ssl) {
            result = PeerCertificate(subject: OpenSSLSupport.rfc2253(X509_get_subject_name(cert)),
                                     issuer: OpenSSLSupport.rfc2253(X509_get_issuer_name(cert)),
                                     sha256Fingerprint: OpenSSLSupport.sha256Fingerprint(of: cert))
        }
        cachedPeerCertificate = .some(result)
        return result
    }

    // MARK: Callbacks (called by TLSCallbacks, inside this engine's calls)

    func record(alert: TLSAlert) {
        lastAlert = alert
    }

    // MARK: Internals

    private static func makeSSL(_ context: SSLContext) throws(TLSError) -> (OpaquePointer, OpaquePointer, OpaquePointer) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else {
            throw .protocolError("cannot create a TLS connection: \(OpenSSLSupport.takeErrorReason() ?? "out of memory")")
        }
        guard let readBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw .protocolError("cannot create a TLS connection: out of memory")
        }
        guard let writeBIO = BIO_new(BIO_s_mem()) else {
            BIO_free(readBIO)
            SSL_free(ssl)
            throw .protocolError("cannot create a TLS connection: out of memory")
        }
        // Memory BIOs report "retry" (not EOF) when empty: BIO_s_mem's default.
        SSL_set_bio(ssl, readBIO, writeBIO)
        return (ssl, readBIO, writeBIO)
    }

    private func attachToSSL() throws(TLSError) {
        guard TLSCallbacks.engineSlot >= 0,
              SSL_set_ex_data(ssl, TLSCallbacks.engineSlot, Unmanaged.passUnretained(self).toOpaque()) == 1 else {
            throw .protocolError("cannot create a TLS connection: no OpenSSL ex_data slot")
        }
    }

    /// ALPN names as the wire's length-prefixed list.
    private static func alpnWireFormat(_ protocols: [String]) throws(TLSError) -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw .protocolError("ALPN protocol names must be 1 to 255 bytes long, not \"\(name)\"")
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        return wire
    }

    private func feed(_ ciphertext: some Collection<UInt8>) throws(TLSError) {
        guard !ciphertext.isEmpty else { return }
        let ok = ciphertext.withContiguousStorageIfAvailable { appendToReadBIO($0) }
            ?? Array(ciphertext).withUnsafeBufferPointer { appendToReadBIO($0) }
        if !ok { throw fail(.protocolError("out of memory buffering received TLS records")) }
    }

    private func appendToReadBIO(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let chunk = Int32(clamping: bytes.count - offset)
            let n = BIO_write(readBIO, bytes.baseAddress! + offset, chunk)
            guard n > 0 else { return false }
            offset += Int(n)
        }
        return true
    }

    private func driveHandshake() throws(TLSError) {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            currentState = .established
            handshakeCompleted = true
            try flushPending()
            return
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return
        default:
            throw fail(handshakeError())
        }
    }

    private func handshakeError() -> TLSError {
        let reason = OpenSSLSupport.takeErrorReason()
        if role == .client, verifiesPeer {
            let verifyResult = SSL_get_verify_result(ssl)
            if verifyResult != X509_V_OK {
                let message = X509_verify_cert_error_string(verifyResult).map { String(cString: $0) } ?? "verify error \(verifyResult)"
                return .certificateVerificationFailed(message)
            }
        }
        let alert = lastAlert.flatMap { $0.name == "close notify" ? nil : $0 }
        var text = reason ?? "the connection ended during the handshake"
        if let alert { text += alert.sentByPeer ? " (the peer sent the alert)" : " (this side sent the alert)" }
        return .handshakeFailed(reason: text, alert: alert?.name)
    }

    /// Decrypts everything the read BIO holds.
    private func readAvailable() throws(TLSError) -> [UInt8] {
        var plaintext: [UInt8] = []
        var error: TLSError?
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16 * 1024) { buffer in
            while true {
                ERR_clear_error()
                let n = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
                if n > 0 {
                    plaintext.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<Int(n)]))
                    continue
                }
                switch SSL_get_error(ssl, n) {
                case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                    break
                case SSL_ERROR_ZERO_RETURN:
                    receivedCloseNotify = true
                default:
                    error = readWriteError(while: "reading")
                }
                return
            }
        }
        if let error { throw fail(error) }
        // A TLS 1.2 peer may ask for something that blocked a write; retry it.
        if !pendingPlaintext.isEmpty, currentState == .established { try flushPending() }
        return plaintext
    }

    /// Writes what it can of `bytes`; nil on a fatal error.
    private func write(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let n = SSL_write(ssl, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
            if n > 0 {
                offset += Int(n)
                continue
            }
            switch SSL_get_error(ssl, n) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return offset
            default:
                return nil
            }
        }
        return offset
    }

    private func flushPending() throws(TLSError) {
        guard !pendingPlaintext.isEmpty else { return }
        let written = pendingPlaintext.withUnsafeBufferPointer { write($0) }
        guard let written else { throw fail(readWriteError(while: "writing")) }
        if written == pendingPlaintext.count {
            pendingPlaintext.removeAll(keepingCapacity: false)
        } else {
            pendingPlaintext.removeFirst(written)
        }
    }

    private func readWriteError(while doing: String) -> TLSError {
        let reason = OpenSSLSupport.takeErrorReason() ?? "the connection failed while \(doing)"
        if let alert = lastAlert, alert.isFatal {
            return .protocolError("\(reason) (\(alert))")
        }
        return .protocolError(reason)
    }

    /// Records `error` as terminal and returns it for throwing.
    private func fail(_ error: TLSError) -> TLSError {
        failure = error
        currentState = .closed
        pendingPlaintext = []
        return error
    }
}
