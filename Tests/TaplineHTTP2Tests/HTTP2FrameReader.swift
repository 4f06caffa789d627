/// Splits raw HTTP/2 output into frames, for assertions on what a session sent.
struct HTTP2FrameReader {
    struct Frame: Equatable {
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
        var payload: [UInt8]

        /// The error code of a RST_STREAM (type 3) or GOAWAY (type 7) frame.
        var errorCode: UInt32? {
            let offset: Int
            switch type {
            case 3: offset = 0
            case 7: offset = 4
            default: return nil
            }
            guard payload.count >= offset + 4 else { return nil }
            return payload[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// The frames in `bytes` (a leading client preface is skipped).
    static func frames(_ bytes: [UInt8]) -> [Frame] {
        var rest = bytes[...]
        if rest.starts(with: preface) { rest = rest.dropFirst(preface.count) }
        var frames: [Frame] = []
        while rest.count >= 9 {
            let start = rest.startIndex
            let length = Int(rest[start]) << 16 | Int(rest[start + 1]) << 8 | Int(rest[start + 2])
            guard rest.count >= 9 + length else { break }
            let stream = rest[start + 5..<start + 9].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & 0x7fff_ffff
            frames.append(Frame(type: rest[start + 3], flags: rest[start + 4], stream: stream,
                                payload: Array(rest[start + 9..<start + 9 + length])))
            rest = rest.dropFirst(9 + length)
        }
        return frames
    }

    /// A raw frame.
    static func frame(type: UInt8, flags: UInt8 = 0, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags,
                UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
            + payload
    }
}
