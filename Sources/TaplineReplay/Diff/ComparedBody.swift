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
    /// A WebSocket text message: compared as JSON when it parses as JSON, else as text.
    public var isTextMessage: Bool

    public init(bytes: [UInt8], incompleteReason: String? = nil, mediaType: MediaType? = nil, isTextMessage: Bool = false) {
        self.bytes = bytes
        self.complete = incompleteReason == nil
        self.incompleteReason = incompleteReason
        self.mediaType = mediaType
        self.isTextMessage = isTextMessage
    }

    /// A captured HTTP body loaded through `LoadedBody` (decoded per its Content-Encoding).
    public init(_ loaded: LoadedBody, contentType: String?) {
        let reason = loaded.complete ? nil : (loaded.note ?? "only part of the body was recorded")
        self.init(bytes: loaded.bytes, incompleteReason: reason, mediaType: MediaType(contentType))
    }
}
