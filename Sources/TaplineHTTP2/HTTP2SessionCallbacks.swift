import CNghttp2

/// The C callbacks nghttp2 calls during `mem_recv` / `mem_send`. Each one only
/// borrows the owning `HTTP2Session` from `user_data` and turns the frame into
/// an event (or copies queued body bytes into a DATA frame); none does I/O.
///
/// Thread ownership: called on the session's thread, inside its own methods.
enum HTTP2SessionCallbacks {
    /// A new callbacks object (the caller deletes it after creating the session).
    static func make() -> OpaquePointer? {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            HTTP2Session.with(userData, else: ()) { $0.beginHeaders(stream: frame.pointee.hd.stream_id) }
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame else { return 0 }
            let accepted = HTTP2Session.with(userData, else: true) { session in
                session.header(stream: frame.pointee.hd.stream_id,
                               name: UnsafeBufferPointer(start: name, count: nameLength),
                               value: UnsafeBufferPointer(start: value, count: valueLength))
            }
            return accepted ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            let gaveUp = HTTP2Session.with(userData, else: false) { session in
                HTTP2SessionCallbacks.frameReceived(frame, session)
                return session.failure != nil
            }
            // The session gave up on its peer (too many oversized header lists): the
            // failure makes nghttp2 return at once, decoding nothing more of this input.
            return gaveUp ? NGHTTP2_ERR_CALLBACK_FAILURE.rawValue : 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, length, userData in
            HTTP2Session.with(userData, else: ()) {
                $0.dataChunk(stream: stream, bytes: UnsafeBufferPointer(start: data, count: length))
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, code, userData in
            HTTP2Session.with(userData, else: ()) { $0.streamClosed(stream, code: code) }
            return 0
        }
        nghttp2_session_callbacks_set_error_callback2(callbacks) { _, code, message, length, userData in
            guard let message else { return 0 }
            HTTP2Session.with(userData, else: ()) { session in
                session.lastLibraryErrorCode = code
                session.lastLibraryMessage = String(decoding: UnsafeRawBufferPointer(start: message, count: length),
                                                    as: UTF8.self)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks) { _, _, code, userData in
            HTTP2Session.with(userData, else: ()) { $0.lastLibraryErrorCode = code }
            return 0
        }
        // Called for every frame written, but does work only for GOAWAY (rare).
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let frame, UInt32(frame.pointee.hd.type) == NGHTTP2_GOAWAY.rawValue else { return 0 }
            let goAway = frame.pointee.goaway
            HTTP2Session.with(userData, else: ()) { session in
                session.goAwayFramed(code: HTTP2ErrorCode(rawValue: goAway.error_code),
                                     debugData: UnsafeBufferPointer(start: goAway.opaque_data, count: goAway.opaque_data_len))
            }
            return 0
        }
        return callbacks
    }

    static func frameReceived(_ frame: UnsafePointer<nghttp2_frame>, _ session: HTTP2Session) {
        let header = frame.pointee.hd
        let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch UInt32(header.type) {
        case NGHTTP2_HEADERS.rawValue:
            session.headersComplete(stream: header.stream_id, category: frame.pointee.headers.cat, endStream: endStream)
        case NGHTTP2_DATA.rawValue:
            if endStream { session.emit(.endStream(stream: header.stream_id)) }
        case NGHTTP2_RST_STREAM.rawValue:
            session.emit(.streamReset(stream: header.stream_id,
                                      code: HTTP2ErrorCode(rawValue: frame.pointee.rst_stream.error_code)))
        case NGHTTP2_SETTINGS.rawValue:
            guard header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0 else { return }
            let settings = frame.pointee.settings
            let parameters = (0..<settings.niv).map { index in
                HTTP2SettingParameter(identifier: UInt16(truncatingIfNeeded: settings.iv[index].settings_id),
                                      value: settings.iv[index].value)
            }
            session.emit(.settings(parameters))
        case NGHTTP2_GOAWAY.rawValue:
            let goAway = frame.pointee.goaway
            let debug = goAway.opaque_data.map { Array(UnsafeBufferPointer(start: $0, count: goAway.opaque_data_len)) } ?? []
            session.emit(.goAway(lastStreamID: goAway.last_stream_id, code: HTTP2ErrorCode(rawValue: goAway.error_code),
                                 debugData: debug))
        default:
            break
        }
    }

    /// The data provider's read callback (see `HTTP2Session.readData`).
    static let readData: nghttp2_data_source_read_callback = { _, stream, buffer, length, flags, _, userData in
        guard let buffer, let flags else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        return HTTP2Session.with(userData, else: Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)) { session in
            session.readData(stream: stream, into: buffer, length: length, flags: flags)
        }
    }
}
