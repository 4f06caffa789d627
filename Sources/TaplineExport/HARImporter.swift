import Dispatch
import Foundation
import TaplineCapture
import TaplineFlow
import TaplineWire

/// Reads a HAR file (as Chrome, Firefox, Safari, Charles, Insomnia or
/// mitmproxy write them) and writes it as a new capture session by feeding
/// `FlowEvent`s to a `CaptureWriter`, so every tool that reads sessions
/// (show, export, replay) works on it.
///
/// The input is untrusted: every field is checked, and an entry that cannot
/// be used stops the import with an error naming it
/// (`log.entries[3].request.url: missing or not a string`). Optional fields
/// may be missing, `null` or of the variants real tools write (Firefox's
/// `null` headersSize, mitmproxy's `content: []`, Chrome's status 0 for failed
/// requests, a UTF-8 BOM, local time offsets). Bodies are stored as HAR holds
/// them: `content.text` decoded (base64 when `encoding` says so); headers are
/// kept as written, so a `Content-Encoding` header may describe an encoding the
/// stored body no longer has (readers then show it as is).
/// The entry's other fields (recorded timings and versions, sizes, cookies,
/// pages, custom fields, ...) are kept with the flow and the log's with the
/// session, as `har` extensions (`HARRecordedEntry`, `HARRecordedLog`), so that
/// export writes the entry back as recorded.
public struct HARImporter {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Parses the HAR and writes a session under `root`.
    public func run(root: String, taplineVersion: String) throws(ExportError) -> HARImportResult {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .cannotRead(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw .cannotRead(path: path, reason: "it is a directory, not a HAR file") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .cannotRead(path: path, reason: "permission denied")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .cannotRead(path: path, reason: (error as NSError).localizedDescription)
        }
        let document: JSONValue
        do throws(JSONParseError) {
            document = try JSONParser.parse([UInt8](data))
        } catch {
            throw .harNotJSON(path: path, reason: error.description)
        }
        guard let log = document["log"], log.objectMembers != nil else { throw invalid("log", "missing or not an object") }
        guard let entries = log["entries"]?.arrayValue else { throw invalid("log.entries", "missing or not an array") }
        // Validate and convert every entry before creating the session.
        var flows: [ImportedFlow] = []
        var connectionIDs: [String: UInt64] = [:]
        var nextConnection: UInt64 = 1
        let numericConnections = Set(entries.compactMap { $0["connection"]?.stringValue.flatMap(UInt64.init) })
        for (index, entry) in entries.enumerated() {
            var flow = try convert(entry, index: index)
            guard let recorded = HARRecordedEntry(importing: entry).fields.captureValue else {
                throw invalid("log.entries[\(index)]", "nested too deeply to be kept")
            }
            flow.recorded = recorded
            if let name = entry["connection"]?.stringValue, !name.isEmpty {
                if let known = connectionIDs[name] {
                    flow.connection = known
                } else {
                    var id = UInt64(name) ?? 0
                    if id == 0 {
                        while numericConnections.contains(nextConnection) || connectionIDs.values.contains(nextConnection) { nextConnection += 1 }
                        id = nextConnection
                    }
                    connectionIDs[name] = id
                    flow.connection = id
                }
            } else {
                while numericConnections.contains(nextConnection) || connectionIDs.values.contains(nextConnection) { nextConnection += 1 }
                flow.connection = nextConnection
                connectionIDs["\u{0}entry\(index)"] = nextConnection
            }
            flows.append(flow)
        }

        guard let recordedLog = HARRecordedLog(importing: log).fields.captureValue else {
            throw invalid("log", "nested too deeply to be kept")
        }
        let name = (path as NSString).lastPathComponent
        let writer: CaptureWriter
        do throws(CaptureError) {
            writer = try CaptureWriter(root: root, options: CaptureOptions(
                proxyDescription: ["mode": "import", "source": name], taplineVersion: taplineVersion))
        } catch {
            throw .capture(error)
        }
        if let first = flows.first {
            writer.recordExtension(name: HARRecordedLog.extensionName, value: recordedLog, flow: nil, time: first.start)
        }
        var opened: Set<UInt64> = []
        var lastTime: [UInt64: Timestamp] = [:]
        for (index, flow) in flows.enumerated() {
            let connection = ConnectionID(flow.connection)
            if opened.insert(flow.connection).inserted {
                writer.record(.connectionOpened(connection: connection, client: "imported", listener: "har:" + name, time: flow.start))
            }
            let id = FlowID(UInt64(index + 1))
            for event in flow.events(id: id, connection: connection) {
                // The entry's recorded HAR fields go before its flowEnded: a reader that
                // streams flows hands each one out at that line (CapturedSession.stream).
                if case .flowEnded = event {
                    writer.recordExtension(name: HARRecordedEntry.extensionName, value: flow.recorded, flow: id, time: flow.start)
                }
                writer.record(event)
                if writer.isBackedUp {
                    let drained = DispatchSemaphore(value: 0)
                    writer.whenDrained { drained.signal() }
                    drained.wait()
                }
            }
            lastTime[flow.connection] = max(lastTime[flow.connection] ?? flow.end, flow.end)
        }
        for id in opened.sorted() {
            writer.record(.connectionClosed(connection: ConnectionID(id), time: lastTime[id] ?? Timestamp(microseconds: 0),
                                            bytesReceived: 0, bytesSent: 0, error: nil))
        }
        writer.close()
        return HARImportResult(sessionID: writer.sessionID, directory: writer.directory, entries: flows.count, warnings: [])
    }

    private func invalid(_ location: String, _ reason: String) -> ExportError {
        .harInvalid(path: path, location: location, reason: reason)
    }

    // MARK: - One entry

    private func convert(_ entry: JSONValue, index: Int) throws(ExportError) -> ImportedFlow {
        let here = "log.entries[\(index)]"
        guard entry.objectMembers != nil else { throw invalid(here, "not an object") }
        guard let startedText = entry["startedDateTime"]?.stringValue else {
            throw invalid(here + ".startedDateTime", "missing or not a string")
        }
        guard let start = HARTime.parse(startedText) else {
            throw invalid(here + ".startedDateTime", "\(startedText.debugDescription) is not an ISO 8601 date-time")
        }
        guard let request = entry["request"], request.objectMembers != nil else { throw invalid(here + ".request", "missing or not an object") }
        guard let method = request["method"]?.stringValue, !method.isEmpty else {
            throw invalid(here + ".request.method", "missing or not a string")
        }
        guard let urlText = request["url"]?.stringValue else { throw invalid(here + ".request.url", "missing or not a string") }
        guard let url = RequestURL(string: urlText) else {
            throw invalid(here + ".request.url", "\(urlText.debugDescription) is not an absolute URL")
        }
        var flow = ImportedFlow(start: start, method: method, url: url)
        flow.requestVersion = Self.version(request["httpVersion"]?.stringValue)
        flow.requestHeaders = try headers(request["headers"], here + ".request.headers")
        if let postData = request["postData"], postData.objectMembers != nil {
            flow.requestBody = try body(postData, here + ".request.postData", params: true)
        }
        flow.requestBodySize = request["bodySize"]?.doubleValue.map { Int64($0) } ?? -1

        guard let response = entry["response"], response.objectMembers != nil else {
            throw invalid(here + ".response", "missing or not an object")
        }
        guard let statusNumber = response["status"]?.doubleValue, statusNumber >= 0, statusNumber < 1000 else {
            throw invalid(here + ".response.status", "missing or not a number from 0 to 999")
        }
        let status = Int(statusNumber)
        flow.errorText = response["_error"]?.stringValue ?? entry["_error"]?.stringValue
        if status > 0 {
            flow.status = status
            flow.reason = response["statusText"]?.stringValue ?? ""
            flow.responseVersion = Self.version(response["httpVersion"]?.stringValue)
            flow.responseHeaders = try headers(response["headers"], here + ".response.headers")
            if let content = response["content"], content.objectMembers != nil {
                flow.responseBody = try body(content, here + ".response.content", params: false)
            }
            flow.responseBodySize = response["bodySize"]?.doubleValue.map { Int64($0) } ?? -1
        }
        if let recorded = entry["serverIPAddress"]?.stringValue, !recorded.isEmpty {
            // Chrome writes IPv6 in brackets (`[2606:4700::1]`), others bare, with a zone id
            // (`fe80::1%7`) at times: bracket it once for the `ip:port` the capture holds.
            let ip = recorded.hasPrefix("[") && recorded.hasSuffix("]") ? String(recorded.dropFirst().dropLast()) : recorded
            let port = url.port ?? RequestURL.defaultPort(url.scheme) ?? 80
            flow.server = (ip.contains(":") ? "[\(ip)]" : ip) + ":\(port)"
        }
        let timings = entry["timings"]
        func phase(_ name: String) -> Double? {
            guard let value = timings?[name]?.doubleValue, value >= 0 else { return nil }
            return value
        }
        flow.phases = (phase("blocked"), phase("dns"), phase("connect"), phase("ssl"), phase("send"), phase("wait"), phase("receive"))
        let resourceType = entry["_resourceType"]?.stringValue
        if let list = entry["_webSocketMessages"]?.arrayValue {
            for (position, message) in list.enumerated() {
                flow.messages.append(try webSocketMessage(message, "\(here)._webSocketMessages[\(position)]"))
            }
        }
        flow.isWebSocket = resourceType == "websocket" || !flow.messages.isEmpty
            || (status == 101 && flow.responseHeaders.first(name: "Upgrade")?.lowercased() == "websocket")
        return flow
    }

    private func headers(_ value: JSONValue?, _ location: String) throws(ExportError) -> HTTPHeaders {
        guard let value, !value.isNull else { return HTTPHeaders() }
        guard let list = value.arrayValue else { throw invalid(location, "not an array") }
        var fields: [HTTPHeaders.Field] = []
        for (index, header) in list.enumerated() {
            guard let name = header["name"]?.stringValue else { throw invalid("\(location)[\(index)].name", "missing or not a string") }
            guard let text = header["value"]?.stringValue else { throw invalid("\(location)[\(index)].value", "missing or not a string") }
            fields.append((name, text))
        }
        return HTTPHeaders(fields)
    }

    /// A postData or content object's bytes: `text` (base64 when `encoding` says so), else postData `params`.
    private func body(_ value: JSONValue, _ location: String, params: Bool) throws(ExportError) -> [UInt8] {
        if let text = value["text"]?.stringValue {
            if value["encoding"]?.stringValue?.lowercased() == "base64" {
                let compact = text.filter { !$0.isWhitespace }
                guard let data = Data(base64Encoded: compact) else { throw invalid(location + ".text", "not valid base64 (encoding is base64)") }
                return [UInt8](data)
            }
            return Array(text.utf8)
        }
        if let text = value["text"], !text.isNull { throw invalid(location + ".text", "not a string") }
        if params, let list = value["params"]?.arrayValue, !list.isEmpty {
            var pairs: [String] = []
            for (index, parameter) in list.enumerated() {
                guard let name = parameter["name"]?.stringValue else { throw invalid("\(location).params[\(index)].name", "missing or not a string") }
                pairs.append(PercentEncoding.encode(name) + "=" + PercentEncoding.encode(parameter["value"]?.stringValue ?? ""))
            }
            return Array(pairs.joined(separator: "&").utf8)
        }
        return []
    }

    private func webSocketMessage(_ value: JSONValue, _ location: String) throws(ExportError) -> (WebSocketMessageRecord, Timestamp?) {
        guard let type = value["type"]?.stringValue, type == "send" || type == "receive" else {
            throw invalid(location + ".type", "missing, or not \"send\" or \"receive\"")
        }
        let opcode = Int(value["opcode"]?.doubleValue ?? 1)
        let data = value["data"]?.stringValue ?? ""
        var payload = Array(data.utf8)
        let kind: WebSocketMessageRecord.Opcode
        switch opcode {
        case 1: kind = .text
        case 2:
            kind = .binary
            guard let decoded = Data(base64Encoded: data) else { throw invalid(location + ".data", "binary message data is not base64") }
            payload = [UInt8](decoded)
        case 8, 9, 10:
            kind = opcode == 8 ? .close : opcode == 9 ? .ping : .pong
            // Tapline writes control payloads (a close code and reason are bytes) as base64,
            // like binary data; browsers record no control frames. Data from another
            // producer that is not base64 is kept as its text rather than refused.
            if let decoded = Data(base64Encoded: data) { payload = [UInt8](decoded) }
        default: throw invalid(location + ".opcode", "\(opcode) is not a WebSocket opcode (1, 2, 8, 9, 10)")
        }
        let time = value["time"]?.doubleValue.map { Timestamp(microseconds: Int64(($0 * 1_000_000).rounded())) }
        var record = WebSocketMessageRecord(fromClient: type == "send", opcode: kind, payload: payload,
                                            wireBytes: UInt64(payload.count), compressed: false)
        try readTruncationMarker(value["_tapline"], location + "._tapline", into: &record)
        return (record, time)
    }

    /// Tapline's marker on a message whose `data` is not the whole message
    /// (`{"truncated": true, "size": N, "reason": ...}`, `FlowMessageTruncation`), kept on
    /// the record so that exporting the session writes it again. An unknown reason
    /// counts as `capture-limit` (the data is the start of a longer payload).
    private func readTruncationMarker(_ marker: JSONValue?, _ location: String,
                                      into record: inout WebSocketMessageRecord) throws(ExportError) {
        guard let marker, marker["truncated"]?.boolValue == true else { return }
        guard let size = marker["size"]?.doubleValue, size >= 0, size < 0x1p63, size == size.rounded() else {
            throw invalid(location + ".size", "missing, or not a byte count (the whole message's size)")
        }
        let whole = UInt64(size)
        switch FlowMessageTruncation(rawValue: marker["reason"]?.stringValue ?? "") {
        case .undecoded?:
            record.payload = []
            record.undecodedCompressedSize = whole
        case .capped?:
            record.decodingCapped = true
            if whole > UInt64(record.payload.count) { record.wholePayloadSize = whole }
        case .captureLimit?, .exportLimit?, nil:
            guard whole >= UInt64(record.payload.count) else {
                throw invalid(location + ".size", "\(whole) is smaller than the message's data (\(record.payload.count) bytes)")
            }
            record.wholePayloadSize = whole
        }
    }

    /// `HTTP/1.1`, `http/2.0`, `h3`, `HTTP/3`, `""` -> a version (empty means HTTP/1.1).
    static func version(_ text: String?) -> HTTPVersion {
        let lower = (text ?? "").lowercased()
        if lower == "h2" || lower.hasPrefix("http/2") { return .http2 }
        if lower == "h3" || lower.hasPrefix("http/3") { return HTTPVersion(major: 3, minor: 0) }
        if lower == "http/1.0" { return .http1_0 }
        return .http1_1
    }
}
