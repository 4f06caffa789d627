import Foundation
import TaplineCapture
import TaplineFlow
import TaplineWire

/// The WebSocket part of `tapline show SESSION --flow N`: one line per message
/// in capture order — time since the 101, direction arrow (`→` client to
/// server, `←` server to client), opcode, size (and size on the wire, with
/// `deflate` when compressed), and a preview (text, hex for binary, code and
/// reason for close). A message whose decoding stopped at the proxy's 64 MiB cap
/// says it was cut for the capture only (`cappedNotes` for the flow's summary); a
/// later compressed message of that side that could not be inflated says so, with
/// its compressed size.
/// Also its JSON form for `--json`. Pure apart from reading spilled payloads.
enum ShowWebSocketTimeline {
    static let previewCharacters = 60
    static let previewBytes = 256

    static func lines(_ flow: CapturedFlow, sessionDirectory: String, style: TerminalStyle) -> [String] {
        let messages = flow.webSocketMessages
        guard !messages.isEmpty else { return [style.dim("(no messages)")] }
        let origin = flow.responseTime ?? messages[0].time
        let fromClient = messages.filter(\.fromClient).count
        var out = ["\(messages.count) messages: \(fromClient) from the client, \(messages.count - fromClient) from the server"]
        let sizes = messages.map(sizeText)
        // As wide as the widest size, and two spaces before the preview, whatever the sizes.
        let sizeWidth = sizes.reduce(0) { max($0, $1.count) } + 2
        var lastCappedNumber: [Bool: Int] = [:]  // per side (fromClient), 1-based
        for (number, (message, size)) in zip(messages, sizes).enumerated() {
            let offset = "+" + ShowText.milliseconds(origin.milliseconds(to: message.time))
            let arrow = message.fromClient ? "→" : "←"
            var line = "  " + ShowText.pad(offset, 11, right: true) + " " + arrow + " "
                + ShowText.pad(ShowText.sanitize(message.opcode), 7) + ShowText.pad(size, sizeWidth)
                + preview(message, sessionDirectory: sessionDirectory)
            if message.decodingCapped { lastCappedNumber[message.fromClient] = number + 1 }
            if message.undecoded {
                let cut = lastCappedNumber[message.fromClient].map { "message \($0)" } ?? "an earlier message"
                line += " " + style.yellow("(not decoded: the compression context was lost when \(cut) was cut at the cap; "
                                           + "relayed whole)")
            } else if message.decodingCapped {
                line += " " + style.yellow("(message \(number + 1) cut at \(capText(message)) for the capture only; relayed whole"
                                           + (message.storedBytes < cutSize(message) ? ", capture kept \(message.storedBytes) bytes)" : ")"))
            } else if message.truncated {
                line += " " + style.yellow("(capture kept \(message.storedBytes) of \(message.size) bytes)")
            }
            out.append(line)
        }
        return out
    }

    /// One sentence per message whose decoding stopped at the proxy's cap, for the top of
    /// `--flow N`: the flow's end reason says what happened on the wire, this says the
    /// capture's copy is short while the peer got every byte. The tap goes on decoding
    /// that side's frames after the cap (`WebSocketTap`): the note counts the later
    /// compressed messages it could not inflate (`undecoded`) up to the side's next cap.
    static func cappedNotes(_ flow: CapturedFlow) -> [String] {
        let messages = flow.webSocketMessages
        return messages.indices.filter { messages[$0].decodingCapped }.map { index in
            let message = messages[index]
            let side = message.fromClient ? "client" : "server"
            let later = messages[(index + 1)...].filter { $0.fromClient == message.fromClient }
            let undecoded = later.prefix { !$0.decodingCapped }.filter(\.undecoded).count
            let lost = undecoded == 0 ? ""
                : "; \(undecoded) later compressed message\(undecoded == 1 ? "" : "s") from the \(side) could not be "
                    + "decoded (the compression context was lost with the cut)"
            // No claim about later frames being recorded: captures of older versions stopped there.
            return "message \(index + 1) (from the \(side)) was cut at \(capText(message)) for the capture only: "
                + "the proxy relayed all its bytes\(lost)"
        }
    }

    /// The cap a capped message stopped at, as the capture recorded it (`64 MiB`, or
    /// `1000 bytes` for a cap that is no whole number of MiB). A capture written before
    /// the cap was recorded gets it inferred from where the message was cut.
    private static func capText(_ message: CapturedWebSocketMessage) -> String {
        let cap = message.capSize ?? cutSize(message)
        return cap % (1 << 20) == 0 ? "\(cap >> 20) MiB" : "\(cap) bytes"
    }

    /// Where a capped message was cut: a compressed one's `size` is what was decoded; an
    /// uncompressed one's is its real size (it was over the cap on the wire), cut at the
    /// cap the capture recorded (older captures: the proxy's default cap).
    private static func cutSize(_ message: CapturedWebSocketMessage) -> UInt64 {
        message.compressed
            ? message.size
            : min(message.size, message.capSize ?? UInt64(WebSocketMessageDecoder.defaultMaxMessageBytes))
    }

    /// `12 kB (wire 3.1 kB, deflate)`: the payload size and the frames' size on the wire
    /// (`1.2 kB compressed (wire ...)` for an undecoded message: its size before inflating).
    static func sizeText(_ message: CapturedWebSocketMessage) -> String {
        ByteCountText.format(message.size) + (message.undecoded ? " compressed" : "")
            + " (wire \(ByteCountText.format(message.wireBytes))\(message.compressed ? ", deflate" : ""))"
    }

    /// What a message said, shortened to one line.
    static func preview(_ message: CapturedWebSocketMessage, sessionDirectory: String) -> String {
        if message.opcode == "close" {
            guard let code = message.closeCode else { return "no status code" }
            let reason = message.closeReason.map { $0.isEmpty ? "" : " " + quoted($0) } ?? ""
            return "code \(code)\(reason)"
        }
        guard message.size > 0, !message.undecoded else { return "" }
        let bytes: [UInt8]
        do {
            bytes = try message.payload(sessionDirectory: sessionDirectory, limit: previewBytes)
        } catch {
            return "(payload unreadable: \(error))"
        }
        if message.opcode != "binary", let text = ShowBodyPreview.text(bytes, cutAtLimit: message.storedBytes > UInt64(bytes.count)) {
            return quoted(text)
        }
        let hex = bytes.prefix(16).map { String(format: "%02x", $0) }.joined(separator: " ")
        return hex + (message.size > 16 ? " ..." : "")
    }

    private static func quoted(_ text: String) -> String {
        let flat = ShowText.sanitize(text)
        let cut = flat.count > previewCharacters ? String(flat.prefix(previewCharacters)) + "..." : flat
        return "\"" + cut + "\""
    }

    /// `--json`: every message with its full stored payload (`text` when it is valid
    /// UTF-8, else `base64`), in the capture format's names.
    static func json(_ flow: CapturedFlow, sessionDirectory: String) -> JSONValue {
        .array(flow.webSocketMessages.map { message in
            var members = [
                JSONMember("t", .integer(message.time.microseconds)),
                JSONMember("dir", .string(message.fromClient ? "client" : "server")),
                JSONMember("opcode", .string(message.opcode)),
                JSONMember("wireBytes", .integer(message.wireBytes)),
                JSONMember("size", .integer(message.size)),
                JSONMember("compressed", .bool(message.compressed)),
                JSONMember("truncated", .bool(message.truncated)),
                JSONMember("capped", .bool(message.decodingCapped)),
                JSONMember("undecoded", .bool(message.undecoded)),
            ]
            if let cap = message.capSize { members.append(JSONMember("cap", .integer(cap))) }
            if let code = message.closeCode {
                members.append(JSONMember("code", .integer(code)))
                members.append(JSONMember("reason", .string(message.closeReason ?? "")))
            }
            do {
                let payload = try message.payload(sessionDirectory: sessionDirectory)
                if let text = String(validating: payload, as: UTF8.self) {
                    members.append(JSONMember("text", .string(text)))
                } else {
                    members.append(JSONMember("base64", .string(Base64.encode(payload))))
                }
            } catch {
                members.append(JSONMember("payloadError", .string("\(error)")))
            }
            return .object(members)
        })
    }
}
