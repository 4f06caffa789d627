import COpenSSL
import CTaplineShims

/// Owns one reference to an OpenSSL `SSL_CTX`, configured once and then only
/// read: TLS 1.2–1.3, no renegotiation, no compression, released idle buffers,
/// and Tapline's callbacks (alerts; ALPN selection in the server role).
///
/// Shared across event loops: OpenSSL allows `SSL_new` on one context from many
/// threads, and nothing here mutates it after `make*` returns.
final class SSLContext: @unchecked Sendable {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        SSL_CTX_free(pointer)
    }

    /// A context for the client role. `verifyPeer` false: SSL_VERIFY_NONE.
    /// Otherwise the system trust store plus `additionalTrustPEMFile` when given.
    static func makeClient(verifyPeer: Bool, additionalTrustPEMFile: String?) throws(TLSError) -> SSLContext {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw .protocolError("cannot create a TLS client context: \(OpenSSLSupport.takeErrorReason() ?? "out of memory")")
        }
        let context = SSLContext(pointer: ctx)  // frees ctx on any throw below
        try context.applyCommonSettings()
        if verifyPeer {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
            if SSL_CTX_set_default_verify_paths(ctx) != 1 {
                throw .protocolError("cannot load the system trust store: \(OpenSSLSupport.takeErrorReason() ?? "unknown error")")
            }
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        }
        if let file = additionalTrustPEMFile {
            if SSL_CTX_load_verify_locations(ctx, file, nil) != 1 {
                let reason = OpenSSLSupport.takeErrorReason() ?? "unreadable"
                throw .certificateAuthority("cannot load trusted CA certificates from \(file): \(reason); it must be a readable PEM file")
            }
        }
        return context
    }

    /// A context for the server role presenting `certificate` (then `chain`)
    /// with `privateKey`. The context takes its own references. `source` names
    /// the certificate in errors ("the minted certificate for example.test", "c.pem").
    static func makeServer(certificate: OpaquePointer, privateKey: OpaquePointer, chain: [OpaquePointer],
                           source: String) throws(TLSError) -> SSLContext {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else {
            throw .protocolError("cannot create a TLS server context: \(OpenSSLSupport.takeErrorReason() ?? "out of memory")")
        }
        let context = SSLContext(pointer: ctx)
        try context.applyCommonSettings()
        guard SSL_CTX_use_certificate(ctx, certificate) == 1,
              SSL_CTX_use_PrivateKey(ctx, privateKey) == 1,
              SSL_CTX_check_private_key(ctx) == 1 else {
            throw .certificateAuthority("cannot use \(source): \(OpenSSLSupport.takeErrorReason() ?? "unknown error")")
        }
        for cert in chain where tapline_ssl_ctx_add1_chain_cert(ctx, cert) != 1 {
            throw .certificateAuthority("cannot add a chain certificate of \(source): \(OpenSSLSupport.takeErrorReason() ?? "unknown error")")
        }
        SSL_CTX_set_alpn_select_cb(ctx, { ssl, out, outLength, offered, offeredLength, _ in
            TLSCallbacks.selectALPN(ssl: ssl, out: out, outLength: outLength, offered: offered, offeredLength: offeredLength)
        }, nil)
        return context
    }

    private func applyCommonSettings() throws(TLSError) {
        guard tapline_ssl_ctx_set_min_proto_version(pointer, TLS1_2_VERSION) == 1,
              tapline_ssl_ctx_set_max_proto_version(pointer, TLS1_3_VERSION) == 1 else {
            throw .protocolError("cannot restrict TLS versions to 1.2–1.3: \(OpenSSLSupport.takeErrorReason() ?? "unknown error")")
        }
        tapline_ssl_ctx_set_common_options(pointer)
        SSL_CTX_set_info_callback(pointer) { ssl, type, value in
            TLSCallbacks.info(ssl: ssl, type: type, value: value)
        }
    }
}
