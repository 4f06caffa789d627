import TaplineWire

/// The fields of a `CapturedFlow` that a plain HTTP exchange leaves empty (trailers,
/// interim responses, HTTP/2 resets, WebSocket and gRPC messages, the error, extensions),
/// kept together behind one reference that is nil until one of them is set to something
/// other than empty. A flow is copied and destroyed several times on its way (assembled,
/// planned, sent, collected, compared): each copy retains, and each destroy releases, this
/// one reference instead of a reference per field.
///
/// Invariant: each field reads as the value last set (empty before any was set), and
/// two values are equal exactly when every field is (a nil box reads as all empty), as if
/// the fields were stored inline: copy-on-write, a box is changed only when uniquely
/// referenced (`boxForWriting`), else copied first. Setting a field to empty while there
/// is no box makes none.
///
/// Thread ownership: a value type; a box shared between copies (on any threads) is never
/// written, which is what makes it `Sendable`.
struct CapturedFlowRareFields: Sendable, Equatable {
    /// The fields' home, shared by copies until one of them writes.
    final class Box: @unchecked Sendable {
        var requestTrailers: HTTPHeaders?
        var responseTrailers: HTTPHeaders?
        var interimResponses: [HTTPResponseHead] = []
        var http2Resets: [CapturedHTTP2Reset] = []
        var webSocketMessages: [CapturedWebSocketMessage] = []
        var grpcMessages: [CapturedGRPCMessage] = []
        var error: RecordedError?
        var extensions: [String: CaptureJSONValue] = [:]

        init() {}

        init(copying other: Box) {
            requestTrailers = other.requestTrailers
            responseTrailers = other.responseTrailers
            interimResponses = other.interimResponses
            http2Resets = other.http2Resets
            webSocketMessages = other.webSocketMessages
            grpcMessages = other.grpcMessages
            error = other.error
            extensions = other.extensions
        }
    }

    private var box: Box?

    /// The box, made (or copied, when another value shares it) so that it can be written.
    @inline(__always)
    private mutating func boxForWriting() -> Box {
        if !isKnownUniquelyReferenced(&box) { makeBoxUnique() }
        return box.unsafelyUnwrapped
    }

    /// A box of its own: a copy of the shared one, or a new one.
    @inline(never)
    private mutating func makeBoxUnique() {
        box = box.map(Box.init(copying:)) ?? Box()
    }

    var requestTrailers: HTTPHeaders? {
        @inline(__always) get { box?.requestTrailers }
        @inline(__always) set { if newValue != nil || box != nil { boxForWriting().requestTrailers = newValue } }
    }

    var responseTrailers: HTTPHeaders? {
        @inline(__always) get { box?.responseTrailers }
        @inline(__always) set { if newValue != nil || box != nil { boxForWriting().responseTrailers = newValue } }
    }

    var interimResponses: [HTTPResponseHead] {
        @inline(__always) get { box?.interimResponses ?? [] }
        @inline(__always) set { if !newValue.isEmpty || box != nil { boxForWriting().interimResponses = newValue } }
        _modify {
            let box = boxForWriting()
            yield &box.interimResponses
        }
    }

    var http2Resets: [CapturedHTTP2Reset] {
        @inline(__always) get { box?.http2Resets ?? [] }
        @inline(__always) set { if !newValue.isEmpty || box != nil { boxForWriting().http2Resets = newValue } }
        _modify {
            let box = boxForWriting()
            yield &box.http2Resets
        }
    }

    var webSocketMessages: [CapturedWebSocketMessage] {
        @inline(__always) get { box?.webSocketMessages ?? [] }
        @inline(__always) set { if !newValue.isEmpty || box != nil { boxForWriting().webSocketMessages = newValue } }
        _modify {
            let box = boxForWriting()
            yield &box.webSocketMessages
        }
    }

    var grpcMessages: [CapturedGRPCMessage] {
        @inline(__always) get { box?.grpcMessages ?? [] }
        @inline(__always) set { if !newValue.isEmpty || box != nil { boxForWriting().grpcMessages = newValue } }
        _modify {
            let box = boxForWriting()
            yield &box.grpcMessages
        }
    }

    var error: RecordedError? {
        @inline(__always) get { box?.error }
        @inline(__always) set { if newValue != nil || box != nil { boxForWriting().error = newValue } }
    }

    var extensions: [String: CaptureJSONValue] {
        @inline(__always) get { box?.extensions ?? [:] }
        @inline(__always) set { if !newValue.isEmpty || box != nil { boxForWriting().extensions = newValue } }
        _modify {
            let box = boxForWriting()
            yield &box.extensions
        }
    }

    static func == (lhs: CapturedFlowRareFields, rhs: CapturedFlowRareFields) -> Bool {
        if lhs.box === rhs.box { return true }
        return lhs.requestTrailers == rhs.requestTrailers && lhs.responseTrailers == rhs.responseTrailers
            && lhs.interimResponses == rhs.interimResponses && lhs.http2Resets == rhs.http2Resets
            && lhs.webSocketMessages == rhs.webSocketMessages && lhs.grpcMessages == rhs.grpcMessages
            && lhs.error == rhs.error && lhs.extensions == rhs.extensions
    }
}
