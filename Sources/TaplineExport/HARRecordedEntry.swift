import TaplineCapture
import TaplineWire

/// What an imported HAR entry said beyond what capture events hold, kept with
/// its flow as the `har` extension so that exporting the session gives the
/// entry back as recorded (docs/export.md, "Round trip").
///
/// `fields` is the entry without the parts the capture stores itself: the
/// request's `method`, `headers` and `postData.text`, the response's
/// `status`, `statusText`, `headers` and `content.text` (a non-empty text: the
/// body is in the body segments), and `_webSocketMessages` (the flow's
/// `wsMessage`s). Everything else — the `url` as spelled, recorded timings, `httpVersion` strings,
/// `headersSize`, `content.size` and `mimeType`, query and param values, cookies
/// with their attributes, `pageref`, `connection`, `cache`, comments and every
/// `_`-prefixed custom field — is kept as written, as opaque JSON.
///
/// `applied(to:)` lays the recorded fields over an entry built from the capture
/// (see its rules); the result is valid HAR 1.2 even when the original was not.
/// `recordedHTTPVersion(response:)` and `recordedTimings` answer what `tapline show`
/// presents as recorded, so that no caller reads the extension's JSON itself.
/// A value type, pure.
public struct HARRecordedEntry: Sendable, Equatable {
    /// The extension name on the flow (`CapturedFlow.extensions`).
    static let extensionName = "har"

    let fields: JSONValue

    init(fields: JSONValue) {
        self.fields = fields
    }

    /// The recorded part of `entry`, an entry of a HAR file being imported.
    init(importing entry: JSONValue) {
        var members = entry.objectMembers ?? []
        members.removeAll { $0.key == "_webSocketMessages" }
        Self.update(&members, "request") { request in
            request.removeAll { ["method", "headers"].contains($0.key) }
            Self.update(&request, "postData", Self.removeBodyText)
        }
        Self.update(&members, "response") { response in
            response.removeAll { ["status", "statusText", "headers"].contains($0.key) }
            Self.update(&response, "content", Self.removeBodyText)
        }
        fields = .object(members)
    }

    /// The flow's recorded entry, when it was imported from a HAR.
    public init?(flow: CapturedFlow) {
        guard let value = flow.extensions[Self.extensionName] else { return nil }
        let json = JSONValue(capture: value)
        guard json.objectMembers != nil else { return nil }
        fields = json
    }

    /// True when the recorded `content` (`response` true) or `postData` said
    /// `"encoding": "base64"`; false when it had another or none; nil when it had no such object.
    func recordedBase64(response: Bool) -> Bool? {
        let body = response ? fields["response"]?["content"] : fields["request"]?["postData"]
        guard body?.objectMembers != nil else { return nil }
        return body?["encoding"]?.stringValue?.lowercased() == "base64"
    }

    /// The `httpVersion` recorded for the request (`response` false) or the response, as
    /// the tool spelled it (`spdy`, `quic/1+spdy/3`, `http/2.0`, `h3`; `""` when it wrote an
    /// empty one, as browsers do for a request that failed); nil when it wrote no string.
    /// The flow's heads hold a parsed `HTTPVersion` instead, HTTP/1.1 for any spelling the
    /// importer does not know.
    public func recordedHTTPVersion(response: Bool) -> String? {
        fields[response ? "response" : "request"]?["httpVersion"]?.stringValue
    }

    /// The entry's `timings` as recorded; nil when it had no timings object.
    public var recordedTimings: HARRecordedTimings? {
        guard let timings = fields["timings"] else { return nil }
        return HARRecordedTimings(timings)
    }

    // MARK: - Laying the recording over a built entry

    /// `computed` (an entry `HAREntryBuilder` made from the capture) with the recorded
    /// fields laid over it, member by member, recursively through objects:
    /// - a recorded `_`-prefixed (custom) member is kept as it is;
    /// - a recorded value replaces the computed one when it has the same JSON type and
    ///   is valid HAR 1.2 there; otherwise (Firefox's `null` headersSize, mitmproxy's
    ///   `content: []`, Charles' `redirectURL: null`) the computed value stays;
    /// - a recorded member the builder does not make (custom fields, `pageref`,
    ///   `comment`, `cache` contents) is kept, unless HAR 1.2 forbids its value there
    ///   (`serverIPAddress: ""`, a `cache.afterRequest` without `lastAccess`/`eTag`/`hitCount`);
    /// - a computed member the recording lacks is dropped unless HAR 1.2 requires it
    ///   (then the computed value fills the gap; for `headersSize` and `bodySize` HAR's
    ///   "unknown", -1, as the computed one may rest on a guessed HTTP version), or it is
    ///   Tapline's (`_flowId`), or it is what the importer took out of the recording
    ///   (the body's `text` and `encoding`, `_webSocketMessages`);
    /// - `serverIPAddress` and `_flowId` are always the computed ones: the capture holds
    ///   the recorded address, normalized (`[::1]` written as `::1`), and the flow's id.
    /// Members come in the builder's order, then the recorded ones it does not make.
    func applied(to computed: JSONValue) -> JSONValue {
        Self.merge(computed, fields, path: "entry")
    }

    /// Members HAR 1.2 requires, per object path, plus Tapline's own.
    private static let requiredMembers: [String: Set<String>] = [
        "entry": ["startedDateTime", "time", "request", "response", "cache", "timings", "_flowId", "_webSocketMessages"],
        "entry.request": ["method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"],
        "entry.response": ["status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL",
                           "headersSize", "bodySize"],
        "entry.response.content": ["size", "mimeType", "text", "encoding"],
        "entry.request.postData": ["mimeType", "text", "encoding"],
        "entry.timings": ["send", "wait", "receive"],
    ]

    /// Members whose computed value always stands: the flow's id in this session, and the
    /// server address (the capture holds the recorded one, normalized).
    private static let alwaysComputed: Set<String> = ["entry._flowId", "entry.serverIPAddress"]

    /// Computed members first, in their order, then the recorded ones the builder does not make.
    private static func merge(_ computed: JSONValue, _ recorded: JSONValue, path: String) -> JSONValue {
        guard let computedMembers = computed.objectMembers, let recordedMembers = recorded.objectMembers else {
            return computed
        }
        let required = requiredMembers[path] ?? []
        var merged: [JSONMember] = []
        for member in computedMembers {
            let childPath = path + "." + member.key
            guard let value = recorded[member.key] else {
                if required.contains(member.key) { merged.append(JSONMember(member.key, unknownValues[childPath] ?? member.value)) }
                continue
            }
            if alwaysComputed.contains(childPath) {
                merged.append(member)
            } else if member.value.objectMembers != nil && value.objectMembers != nil {
                merged.append(JSONMember(member.key, merge(member.value, value, path: childPath)))
            } else if member.key.hasPrefix("_") || (sameType(member.value, value) && isValid(value, path: childPath)) {
                merged.append(JSONMember(member.key, value))
            } else {
                merged.append(JSONMember(member.key, unknownValues[childPath] ?? member.value))
            }
        }
        var seen = Set(computedMembers.map(\.key))
        for member in recordedMembers where seen.insert(member.key).inserted {
            let childPath = path + "." + member.key
            if !alwaysComputed.contains(childPath) && (member.key.hasPrefix("_") || isValid(member.value, path: childPath)) {
                merged.append(member)
            }
        }
        return .object(merged)
    }

    /// What fills a required member the recording lacks or has invalid, where HAR 1.2 has
    /// a value for "unknown".
    private static let unknownValues: [String: JSONValue] = [
        "entry.request.headersSize": .integer(-1), "entry.request.bodySize": .integer(-1),
        "entry.response.headersSize": .integer(-1), "entry.response.bodySize": .integer(-1),
    ]

    private static func sameType(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null), (.bool, .bool), (.number, .number), (.string, .string), (.array, .array), (.object, .object):
            return true
        default:
            return false
        }
    }

    /// Whether a recorded value is allowed by HAR 1.2 where it stands (the checks its
    /// JSON type alone does not make).
    private static func isValid(_ value: JSONValue, path: String) -> Bool {
        switch path {
        case "entry.startedDateTime":
            guard let text = value.stringValue, HARTime.parse(text) != nil else { return false }
            return text.hasSuffix("Z") || text.hasSuffix("z") || text.dropLast(4).hasSuffix("+") || text.dropLast(4).hasSuffix("-")
                || text.dropLast(5).hasSuffix("+") || text.dropLast(5).hasSuffix("-")
        case "entry.pageref", "entry.connection", "entry.comment":
            return value.stringValue != nil
        case "entry.cache.beforeRequest", "entry.cache.afterRequest":
            return value.isNull || (value["lastAccess"]?.stringValue != nil && value["eTag"]?.stringValue != nil
                                    && integer(value["hitCount"]) != nil)
        case "entry.request.headersSize", "entry.request.bodySize", "entry.response.headersSize",
             "entry.response.bodySize", "entry.response.status", "entry.response.content.size",
             "entry.response.content.compression":
            return integer(value) != nil
        default:
            return true
        }
    }

    /// The value when it is a JSON number without fraction or exponent.
    private static func integer(_ value: JSONValue?) -> Int64? {
        guard case .number(let text)? = value else { return nil }
        return Int64(text)
    }

    /// Removes a non-empty `text` (the body, which the capture stores); keeps an empty one,
    /// so that an entry recorded with `"text": ""` gets it back.
    private static func removeBodyText(_ members: inout [JSONMember]) {
        members.removeAll { $0.key == "text" && $0.value.stringValue?.isEmpty == false }
    }

    private static func update(_ members: inout [JSONMember], _ key: String, _ change: (inout [JSONMember]) -> Void) {
        guard let index = members.firstIndex(where: { $0.key == key }), var inner = members[index].value.objectMembers else { return }
        change(&inner)
        members[index] = JSONMember(key, .object(inner))
    }
}
