import TaplineExport
import TaplineTLS
import TaplineWire

/// A live request's body as `tapline mock` receives it: held whole while it is at most
/// `MockSessionLoader.requestBodyLimit` bytes; past that, only its size and the
/// SHA-256 of its bytes as sent (`SHA256Hasher`), which is how a recorded body of that
/// size is compared (`MockSessionLoader`). So memory stays bounded by the limit
/// whatever the client sends, and a large upload still matches its recording.
///
/// A value type; its hasher is its own (one owner: the leg's loop).
struct MockLiveRequestBody {
    /// The bytes so far; empty once they went past the limit.
    private(set) var bytes: [UInt8] = []
    /// Bytes received in all.
    private(set) var count = 0
    private var hasher: SHA256Hasher?

    /// The body is still held whole (not past the limit): it can be compared in its
    /// decoded, structured form, and forwarded (`--fallback`).
    var isHeld: Bool { hasher == nil }

    mutating func append(_ piece: ArraySlice<UInt8>) {
        count += piece.count
        if let hasher {
            hasher.update(piece)
        } else if count > MockSessionLoader.requestBodyLimit {
            let hasher = SHA256Hasher()
            hasher.update(bytes[...])
            hasher.update(piece)
            self.hasher = hasher
            bytes = []
        } else {
            bytes += piece
        }
    }

    /// The body in comparable form: a held one as `MockRequest` makes it (decoded,
    /// structured), else its size and digest. Call once, at the body's end.
    func compared(target: String, headers: HTTPHeaders, grpcDecoder: GRPCCallDecoder) -> MockRequestBody {
        guard let hasher else { return MockRequest.comparedBody(bytes, target: target, headers: headers, grpcDecoder: grpcDecoder) }
        return .bytes(sha256: hasher.finishHex(), count: count)
    }
}
