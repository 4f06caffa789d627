import TaplineWire
import XCTest

/// Feeds WebSocket bytes to a `WebSocketMessageDecoder` in given pieces and
/// collects what it says, so tests can check that every split gives the same result.
struct WebSocketOutcome: Equatable {
    var messages: [WebSocketMessage] = []
    var error: WebSocketProtocolError?

    static func decode(_ pieces: [ArraySlice<UInt8>], role: WebSocketRole = .server, compression: Bool = false,
                       maxMessageBytes: Int = WebSocketMessageDecoder.defaultMaxMessageBytes) -> WebSocketOutcome {
        var decoder = WebSocketMessageDecoder(role: role, compression: compression, maxMessageBytes: maxMessageBytes)
        var outcome = WebSocketOutcome()
        for piece in pieces {
            decoder.append(piece)
            do {
                while let message = try decoder.nextMessage() { outcome.messages.append(message) }
            } catch {
                outcome.error = error
                return outcome
            }
        }
        return outcome
    }

    /// Decodes `bytes` whole, byte by byte, and split in two at every offset, and
    /// checks that all of them agree; returns the whole-input outcome.
    static func decodeEverySplit(_ bytes: [UInt8], role: WebSocketRole = .server, compression: Bool = false,
                                 maxMessageBytes: Int = WebSocketMessageDecoder.defaultMaxMessageBytes,
                                 file: StaticString = #filePath, line: UInt = #line) -> WebSocketOutcome {
        let whole = decode([bytes[...]], role: role, compression: compression, maxMessageBytes: maxMessageBytes)
        for split in 0...bytes.count {
            let parts = decode([bytes[..<split], bytes[split...]], role: role, compression: compression,
                               maxMessageBytes: maxMessageBytes)
            XCTAssertEqual(parts, whole, "split at \(split)", file: file, line: line)
            if parts != whole { break }
        }
        let single = decode(bytes.indices.map { bytes[$0...$0] }, role: role, compression: compression,
                            maxMessageBytes: maxMessageBytes)
        XCTAssertEqual(single, whole, "byte by byte", file: file, line: line)
        return whole
    }
}

/// Frames built by hand (not by the encoder under test) for decoder tests.
enum RawFrame {
    /// A frame with the given first byte and payload; masked with `key` when given.
    static func bytes(first: UInt8, payload: [UInt8], key: [UInt8]? = nil, lengthForm: Int? = nil) -> [UInt8] {
        var out = [first]
        let maskBit: UInt8 = key == nil ? 0 : 0x80
        let form = lengthForm ?? (payload.count < 126 ? 7 : payload.count <= 0xFFFF ? 16 : 64)
        switch form {
        case 7: out.append(maskBit | UInt8(payload.count))
        case 16: out += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF)) }
        }
        if let key {
            out += key
            out += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        } else {
            out += payload
        }
        return out
    }

    static let key: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]

    /// A client frame (masked).
    static func client(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0) -> [UInt8] {
        bytes(first: (fin ? 0x80 : 0) | rsv | opcode, payload: payload, key: key)
    }

    /// A server frame (unmasked).
    static func server(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0) -> [UInt8] {
        bytes(first: (fin ? 0x80 : 0) | rsv | opcode, payload: payload)
    }
}
