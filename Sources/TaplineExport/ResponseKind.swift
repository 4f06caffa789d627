import TaplineWire

/// What kind of response a request got, in the terms `EndpointNormalizer`
/// compares sibling requests by: the status class, the media type and, for a
/// JSON object, its top-level member names.
///
/// Invariants: `statusClass` is the status's hundreds digit (2 for 204);
/// `mediaType` is a lowercased `type/subtype` without parameters;
/// `jsonKeys` is sorted and free of repeats, and nil unless the body is a
/// complete JSON object (of at most `bodyLimit` bytes, as the exporter reads it). Built by a pure initializer; a value type.
public struct ResponseKind: Sendable, Hashable {
    public var statusClass: Int
    public var mediaType: String?
    public var jsonKeys: [String]?

    public init(statusClass: Int, mediaType: String?, jsonKeys: [String]?) {
        self.statusClass = statusClass
        self.mediaType = mediaType
        self.jsonKeys = jsonKeys
    }

    /// The kind of a response with `status`, `Content-Type` value `contentType`
    /// and (decoded) `body`; the body is parsed only when the type says JSON.
    public init(status: Int, contentType: String?, body: [UInt8]) {
        let type = MediaType(contentType)
        var keys: [String]?
        if type?.isJSON == true, let members = (try? JSONParser.parse(body))?.objectMembers {
            keys = Array(Set(members.map(\.key))).sorted()
        }
        self.init(statusClass: status / 100, mediaType: type?.essence, jsonKeys: keys)
    }

    /// Whether `init(status:contentType:body:)` reads the body for this
    /// `Content-Type`, so a caller can skip loading the others.
    public static func needsBody(contentType: String?) -> Bool {
        MediaType(contentType)?.isJSON == true
    }

    /// Most body bytes (stored, and again decoded) read to classify a response:
    /// enough for the JSON objects that single resources answer with. A body over it
    /// is classified by status class and media type only (`jsonKeys` nil, like a body
    /// that is not a JSON object), so comparing siblings never loads a large body.
    public static let bodyLimit = 256 << 10
}
