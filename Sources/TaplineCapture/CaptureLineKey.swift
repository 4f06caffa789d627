/// The member names `CapturedSessionAssembler` reads from an events.jsonl line and from
/// the objects in it (`tls`, `error`, `timings`; docs/capture-format.md), as fixed
/// slots: the direct reader (`CaptureFlatLine`) matches a member's name to one on its
/// bytes (`names`, a `CaptureByteStringTable`) and keeps its value in that
/// slot, so no `String` is made or compared per member. A name not listed here is never
/// asked for, and its member is skipped.
///
/// Invariant: `rawValue` is the case's position in `allCases` (0 ..< `count`), and
/// `jsonName` is the member name exactly as the writer spells it.
enum CaptureLineKey: UInt8, CaseIterable, Sendable {
    // every line
    case t, type
    // connection lines
    case conn, client, listener, tls, received, sent, error, side, settings, lastStream, errorCode, debug
    // flow lines
    case flow, kind, scheme, authority, stream, sourceFlow, method, target, version, headers, ended, dir, seg, off, len
    case trailers, bodyBytes, capturedBytes, truncated, server, reused, status, reason, timings, bytesFromClient
    case bytesFromServer
    // wsMessage and grpcMessage lines
    case opcode, wireBytes, size, compressed, capped, undecoded, cap, code, text, base64, extents, index, malformed
    case cut
    // extension lines
    case name, value
    // inside `tls` and its `peer`
    case cipher, sni, alpn, peer, subject, issuer, sha256
    // inside `error`
    case message
    // inside `timings` (`FlowTimingsCoding`)
    case requestStart, dnsStart, dnsEnd, connectStart, connectEnd, tlsStart, tlsEnd, requestSent, firstResponseByte
    case done

    /// How many keys there are (slots in a `CaptureFlatLine`).
    static let count = allCases.count

    /// Every key's `jsonName`, at its `rawValue` (a name's position is its key's slot).
    /// A global: each use goes through its one-time initialisation check, so a reader of
    /// many lines keeps its `lookup` (`CaptureFlatLine.Slots`).
    static let names = CaptureByteStringTable(allCases.map(\.jsonName))

    /// The key whose name is the `count` bytes at `base` (no escapes: the raw bytes of
    /// a JSON string), if one is.
    init?(utf8 base: UnsafePointer<UInt8>, count: Int) {
        guard let index = Self.names.index(of: base, count: count) else { return nil }
        self.init(rawValue: UInt8(truncatingIfNeeded: index))
    }

    /// The member name as events.jsonl spells it.
    var jsonName: String {
        switch self {
        case .t: "t"
        case .type: "type"
        case .conn: "conn"
        case .client: "client"
        case .listener: "listener"
        case .tls: "tls"
        case .received: "received"
        case .sent: "sent"
        case .error: "error"
        case .side: "side"
        case .settings: "settings"
        case .lastStream: "lastStream"
        case .errorCode: "errorCode"
        case .debug: "debug"
        case .flow: "flow"
        case .kind: "kind"
        case .scheme: "scheme"
        case .authority: "authority"
        case .stream: "stream"
        case .sourceFlow: "sourceFlow"
        case .method: "method"
        case .target: "target"
        case .version: "version"
        case .headers: "headers"
        case .ended: "ended"
        case .dir: "dir"
        case .seg: "seg"
        case .off: "off"
        case .len: "len"
        case .trailers: "trailers"
        case .bodyBytes: "bodyBytes"
        case .capturedBytes: "capturedBytes"
        case .truncated: "truncated"
        case .server: "server"
        case .reused: "reused"
        case .status: "status"
        case .reason: "reason"
        case .timings: "timings"
        case .bytesFromClient: "bytesFromClient"
        case .bytesFromServer: "bytesFromServer"
        case .opcode: "opcode"
        case .wireBytes: "wireBytes"
        case .size: "size"
        case .compressed: "compressed"
        case .capped: "capped"
        case .undecoded: "undecoded"
        case .cap: "cap"
        case .code: "code"
        case .text: "text"
        case .base64: "base64"
        case .extents: "extents"
        case .index: "index"
        case .malformed: "malformed"
        case .cut: "cut"
        case .name: "name"
        case .value: "value"
        case .cipher: "cipher"
        case .sni: "sni"
        case .alpn: "alpn"
        case .peer: "peer"
        case .subject: "subject"
        case .issuer: "issuer"
        case .sha256: "sha256"
        case .message: "message"
        case .requestStart: "requestStart"
        case .dnsStart: "dnsStart"
        case .dnsEnd: "dnsEnd"
        case .connectStart: "connectStart"
        case .connectEnd: "connectEnd"
        case .tlsStart: "tlsStart"
        case .tlsEnd: "tlsEnd"
        case .requestSent: "requestSent"
        case .firstResponseByte: "firstResponseByte"
        case .done: "done"
        }
    }
}
