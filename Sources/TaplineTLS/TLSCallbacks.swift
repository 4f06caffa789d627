import COpenSSL
import CTaplineShims

/// The C callbacks installed on every `SSLContext`, and how they find their
/// `TLSEngine`: each `SSL` carries an unretained pointer to its engine in the
/// ex_data slot `engineSlot`. The engine owns the `SSL`, sets the slot right
/// after `SSL_new` and clears it before `SSL_free`, so the pointer is valid
/// whenever OpenSSL calls back — which only happens inside an engine method,
/// on the engine's own thread.
enum TLSCallbacks {
    /// The process-wide ex_data index (allocated once, lazily and thread-safely).
    static let engineSlot: Int32 = tapline_ssl_get_ex_new_index()

    static func engine(for ssl: OpaquePointer?) -> TLSEngine? {
        guard let ssl, engineSlot >= 0, let raw = SSL_get_ex_data(ssl, engineSlot) else { return nil }
        return Unmanaged<TLSEngine>.fromOpaque(raw).takeUnretainedValue()
    }

    /// SSL_CTX_set_info_callback: records alerts in both directions.
    static func info(ssl: OpaquePointer?, type: Int32, value: Int32) {
        guard type & SSL_CB_ALERT != 0, let engine = engine(for: ssl) else { return }
        let name = SSL_alert_desc_string_long(value).map { String(cString: $0).lowercased() } ?? "unknown alert \(value & 0xff)"
        engine.record(alert: TLSAlert(name: name, sentByPeer: type & SSL_CB_READ != 0, isFatal: (value >> 8) == 2))
    }

    /// SSL_CTX_set_alpn_select_cb (server role): selects the engine's configured
    /// protocol when the client offered it, else acknowledges nothing
    /// (SSL_TLSEXT_ERR_NOACK: the handshake goes on without ALPN). `out` points
    /// into the client's list, which OpenSSL copies before it goes away.
    static func selectALPN(ssl: OpaquePointer?, out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
                           outLength: UnsafeMutablePointer<UInt8>?, offered: UnsafePointer<UInt8>?,
                           offeredLength: UInt32) -> Int32 {
        guard let out, let outLength, let offered,
              let engine = engine(for: ssl), let wanted = engine.alpnToSelect, !wanted.isEmpty else {
            return SSL_TLSEXT_ERR_NOACK
        }
        var index = 0
        let total = Int(offeredLength)
        while index < total {
            let length = Int(offered[index])
            let start = index + 1
            guard length > 0, start + length <= total else { break }
            if length == wanted.count, (0..<length).allSatisfy({ offered[start + $0] == wanted[$0] }) {
                out.pointee = offered + start
                outLength.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            index = start + length
        }
        return SSL_TLSEXT_ERR_NOACK
    }
}
