import TaplineExport

/// A body (or WebSocket payload) as `BodyComparison` sees it: its bytes after
/// content decoding, whether they are all of it, and what they say they are.
///
/// Invariant: `incompleteReason` is set exactly when `complete` is false (the
/// capture kept only the first bytes, or the diff's load limit cut them). A value type.
public struct ComparedBody: Sendable, Equatable {
    public var bytes: [UInt8]
    public var complete: Bool
    public var incompleteReason: String?
    /// The Content-Type, when the message had one.
    public var mediaType: MediaType?
    public var origin: Origin

    /// What the bytes are, which decides how they are compared.
    public enum Origin: Sendable, Equatable {
        /// An HTTP body: its Content-Type says whether it is JSON or a form; else text or binary by its bytes.
        case httpBody
        /// A WebSocket text message: JSON when it parses as JSON, else text.
        case textMessage
        /// A WebSocket binary message: always by size and SHA-256.
        case binaryMessage
    }

    public init(bytes: [UInt8], incompleteReason: String? = nil, mediaType: MediaType? = nil,
                origin: Origin = .httpBody) {
        self.bytes = bytes
        self.complete = incompleteReason == nil
        self.incompleteReason = incompleteReason
        self.mediaType = mediaType
        self.origin = origin
    }

    /// A captured HTTP body loaded through `LoadedBody` (decoded per its Content-Encoding).
    public init(_ loaded: LoadedBody, contentType: String?) {
        let reason = loaded.complete ? nil : (loaded.note ?? "only part of the body was recorded")
        self.init(bytes: loaded.bytes, incompleteReason: reason, mediaType: MediaType(contentType))
    }
}
