import TaplineCapture
import TaplineFlow
import TaplineHTTP2

/// The HTTP/2 part of `tapline show SESSION --flow N`: protocol and stream id,
/// resets of the stream, and the connection's SETTINGS and GOAWAYs from each
/// side. Empty for flows that were not on an HTTP/2 client stream. Pure.
enum ShowHTTP2Detail {
    static func lines(_ flow: CapturedFlow, session: CapturedSession) -> [String] {
        guard let stream = flow.http2StreamID else { return [] }
        var out: [String] = []
        func field(_ name: String, _ value: String) {
            out.append("  " + ShowText.pad(name, 13) + ShowText.sanitize(value))
        }
        field("protocol", "HTTP/2, stream \(stream)")
        for reset in flow.http2Resets {
            field("reset", "RST_STREAM from the \(reset.fromClient ? "client" : "upstream"): \(codeText(reset.errorCode))")
        }
        if let connection = session.connections.first(where: { $0.id == flow.connection }) {
            for settings in connection.http2Settings {
                let parameters = settings.settings.map { "\(settingName($0.identifier))=\($0.value)" }
                field("SETTINGS", (settings.fromClient ? "client: " : "upstream: ") + parameters.joined(separator: " "))
            }
            for goAway in connection.http2GoAways {
                field("GOAWAY", "from the \(goAway.fromClient ? "client" : "upstream"): last stream \(goAway.lastStreamID), "
                      + codeText(goAway.errorCode) + (goAway.debugData.isEmpty ? "" : " \(goAway.debugData.debugDescription)"))
            }
        }
        return out
    }

    static func codeText(_ code: UInt32) -> String {
        HTTP2ErrorCode(rawValue: code).description
    }

    /// RFC 9113 §6.5.2 names (and RFC 8441's ENABLE_CONNECT_PROTOCOL).
    static func settingName(_ identifier: UInt16) -> String {
        switch identifier {
        case 1: return "HEADER_TABLE_SIZE"
        case 2: return "ENABLE_PUSH"
        case 3: return "MAX_CONCURRENT_STREAMS"
        case 4: return "INITIAL_WINDOW_SIZE"
        case 5: return "MAX_FRAME_SIZE"
        case 6: return "MAX_HEADER_LIST_SIZE"
        case 8: return "ENABLE_CONNECT_PROTOCOL"
        default: return "0x" + String(identifier, radix: 16)
        }
    }
}
