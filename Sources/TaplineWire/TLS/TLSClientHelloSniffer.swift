/// Looks at the first bytes a client sent inside a tunnel and tells what they are,
/// without consuming them: a TLS ClientHello (with its SNI and ALPN offers),
/// plaintext HTTP/1.x, the HTTP/2 connection preface, or something else.
///
/// Pure function over a prefix of the stream; `.needMoreData` means call again
/// with more bytes. Never traps on malformed input.
///
/// - TLS: handshake records (type 22, version 3.x, length 1...2^14) are
///   reassembled, so a ClientHello split over several records is read whole.
///   The sniffer waits for at most `maxClientHelloBytes` of handshake message
///   (and `maxSniffBytes` of input); a larger one is reported as a ClientHello
///   without SNI/ALPN. A malformed
///   ClientHello body, or another record type in between, is `.other`.
/// - HTTP/2: the exact preface; any proper prefix of it needs more data.
/// - HTTP/1: an uppercase method token (`A-Z`, `-`, `_`, at most
///   `maxMethodLength` bytes) followed by SP.
public enum TLSClientHelloSniffer {
    public enum Result: Sendable, Equatable {
        case needMoreData
        case tlsClientHello(serverName: String?, alpn: [String])
        case http1
        case http2Preface
        /// Neither TLS nor HTTP: relay as an opaque TCP tunnel.
        case other
    }

    /// The largest ClientHello handshake message waited for (bytes after its 4-byte header).
    public static let maxClientHelloBytes = 64 * 1024
    /// The most input looked at. A ClientHello still incomplete within it (cut into
    /// tiny records) is reported without SNI/ALPN rather than waited for.
    public static let maxSniffBytes = 2 * maxClientHelloBytes
    /// The longest method token recognized as HTTP/1.
    public static let maxMethodLength = 24

    private static let http2Preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private static let handshakeRecord: UInt8 = 22
    private static let clientHello: UInt8 = 1
    private static let maxRecordPayload = 1 << 14

    public static func sniff(_ prefix: some Collection<UInt8>) -> Result {
        let bytes = Array(prefix.prefix(maxSniffBytes))
        guard let first = bytes.first else { return .needMoreData }
        if first == handshakeRecord { return sniffTLS(bytes) }

        let prefaceCount = min(bytes.count, http2Preface.count)
        if bytes[0..<prefaceCount].elementsEqual(http2Preface[0..<prefaceCount]) {
            return prefaceCount == http2Preface.count ? .http2Preface : .needMoreData
        }
        return sniffHTTP1(bytes)
    }

    private static func sniffHTTP1(_ bytes: [UInt8]) -> Result {
        for (index, c) in bytes.enumerated() {
            if c == 0x20 { return index > 0 ? .http1 : .other }
            let isMethodChar = (c >= 0x41 && c <= 0x5A) || (index > 0 && (c == 0x2D || c == 0x5F))
            if !isMethodChar || index >= maxMethodLength { return .other }
        }
        return .needMoreData
    }

    /// Reassembles handshake bytes from records until the ClientHello is complete.
    private static func sniffTLS(_ bytes: [UInt8]) -> Result {
        var handshake: [UInt8] = []
        var offset = 0
        while true {
            // Record header: type, version (3, 0...4), 16-bit length; checked as far as it is present.
            let available = bytes.count - offset
            if available == 0 { return incomplete(bytes) }
            if bytes[offset] != handshakeRecord { return .other }
            if available >= 2, bytes[offset + 1] != 3 { return .other }
            if available >= 3, bytes[offset + 2] > 4 { return .other }
            if available < 5 { return incomplete(bytes) }
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            if length == 0 || length > maxRecordPayload { return .other }
            let payloadStart = offset + 5
            let payloadEnd = min(bytes.count, payloadStart + length)
            handshake.append(contentsOf: bytes[payloadStart..<payloadEnd])

            if handshake.count >= 1, handshake[0] != clientHello { return .other }
            if handshake.count >= 4 {
                let messageLength = Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3])
                if messageLength > maxClientHelloBytes { return .tlsClientHello(serverName: nil, alpn: []) }
                if handshake.count >= 4 + messageLength {
                    return parseClientHello(handshake[4..<(4 + messageLength)])
                }
            }
            if payloadEnd < payloadStart + length { return incomplete(bytes) }
            offset = payloadEnd
        }
    }

    /// A TLS prefix that is not complete yet: wait, unless the input cap is reached.
    private static func incomplete(_ bytes: [UInt8]) -> Result {
        bytes.count >= maxSniffBytes ? .tlsClientHello(serverName: nil, alpn: []) : .needMoreData
    }

    /// RFC 8446 §4.1.2 (also TLS 1.0-1.2): skips to the extensions and reads
    /// server_name (0) and application_layer_protocol_negotiation (16).
    private static func parseClientHello(_ body: ArraySlice<UInt8>) -> Result {
        var reader = TLSByteReader(body)
        guard reader.readUInt16() != nil, // legacy_version
              reader.readBytes(32) != nil, // random
              let sessionIDLength = reader.readUInt8(), sessionIDLength <= 32,
              reader.readBytes(Int(sessionIDLength)) != nil,
              let suitesLength = reader.readUInt16(), suitesLength >= 2, suitesLength % 2 == 0,
              reader.readBytes(suitesLength) != nil,
              let compressionLength = reader.readUInt8(), compressionLength >= 1,
              reader.readBytes(Int(compressionLength)) != nil
        else { return .other }
        if reader.isAtEnd { return .tlsClientHello(serverName: nil, alpn: []) }
        guard let extensionsLength = reader.readUInt16(), var extensions = reader.readVector(extensionsLength)
        else { return .other }

        var serverName: String?
        var alpn: [String] = []
        while !extensions.isAtEnd {
            guard let type = extensions.readUInt16(), let length = extensions.readUInt16(),
                  var data = extensions.readVector(length)
            else { return .other }
            switch type {
            case 0:
                guard let names = parseServerName(&data) else { return .other }
                serverName = names
            case 16:
                guard let protocols = parseALPN(&data) else { return .other }
                alpn = protocols
            default:
                break
            }
        }
        return .tlsClientHello(serverName: serverName, alpn: alpn)
    }

    /// The first host_name of a ServerNameList (RFC 6066 §3): `.some(nil)` when the
    /// list holds no usable name (empty, or not printable ASCII), nil when malformed.
    private static func parseServerName(_ data: inout TLSByteReader) -> String?? {
        guard let listLength = data.readUInt16(), var list = data.readVector(listLength), data.isAtEnd
        else { return nil }
        var hostName: String?
        while !list.isAtEnd {
            guard let nameType = list.readUInt8(), let length = list.readUInt16(),
                  let name = list.readBytes(length)
            else { return nil }
            if nameType == 0, hostName == nil, !name.isEmpty,
               name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                hostName = String(decoding: name, as: UTF8.self)
            }
        }
        return .some(hostName)
    }

    /// ProtocolNameList (RFC 7301 §3.1); nil when malformed.
    private static func parseALPN(_ data: inout TLSByteReader) -> [String]? {
        guard let listLength = data.readUInt16(), var list = data.readVector(listLength), data.isAtEnd
        else { return nil }
        var protocols: [String] = []
        while !list.isAtEnd {
            guard let length = list.readUInt8(), length > 0, let name = list.readBytes(Int(length))
            else { return nil }
            protocols.append(String(decoding: name, as: UTF8.self))
        }
        return protocols
    }
}
