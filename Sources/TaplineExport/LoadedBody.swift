import TaplineCapture
import TaplineCompression
import TaplineWire

/// A captured body read into memory for export, decoded through its
/// `Content-Encoding` when possible.
///
/// Invariants: `bytes` are decoded when `decoded` is true, else exactly the
/// stored bytes (a failed or unsupported decoding keeps them and says why in
/// `note`; imported HAR bodies are stored decoded, so their failed decoding
/// is silent). `complete` is false when the capture kept only part of the body
/// or it was larger than the export limit. `exceedsLimit` is true when the export
/// limit cut the body or stopped its decoding (`note` says which). A value type.
public struct LoadedBody: Sendable, Equatable {
    public var bytes: [UInt8]
    public var decoded: Bool
    public var complete: Bool
    /// The body's size on the wire (before decoding), as the capture counted it.
    public var wireSize: UInt64
    public var note: String?
    /// The body, or its decoded form, is longer than the limit it was loaded with.
    public var exceedsLimit = false

    public static let empty = LoadedBody(bytes: [], decoded: false, complete: true, wireSize: 0, note: nil)

    public init(bytes: [UInt8], decoded: Bool, complete: Bool, wireSize: UInt64, note: String?) {
        self.bytes = bytes
        self.decoded = decoded
        self.complete = complete
        self.wireSize = wireSize
        self.note = note
    }

    /// The text when the bytes are valid UTF-8.
    public var utf8Text: String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// The bytes as text for an export that can also write base64, when text is the
    /// faithful form: valid UTF-8 without NUL, and, unless `declaredTextual` (the
    /// Content-Type says text), without other C0 controls than tab, LF, CR and FF.
    /// nil means "binary": a body of zeros becomes base64 rather than `\u0000` escapes
    /// six times its size.
    public func text(declaredTextual: Bool) -> String? {
        guard let text = utf8Text else { return nil }
        let allowed: Set<UInt8> = [0x09, 0x0A, 0x0C, 0x0D]
        let isText = declaredTextual
            ? !bytes.contains(0)
            : !bytes.contains { ($0 < 0x20 && !allowed.contains($0)) || $0 == 0x7F }
        return isText ? text : nil
    }

    /// Reads at most `limit` stored bytes of `body` and decodes them per `headers`' Content-Encoding.
    public static func load(_ body: CapturedBody, headers: HTTPHeaders, limit: Int = 16 << 20) throws(CaptureError) -> LoadedBody {
        guard body.capturedBytes > 0 else {
            return LoadedBody(bytes: [], decoded: false, complete: !body.truncated, wireSize: body.bodyBytes, note: nil)
        }
        return decoded(stored: try body.bodyData(limit: limit), storedTotal: body.capturedBytes, bodyBytes: body.bodyBytes,
                       truncated: body.truncated, headers: headers, limit: limit)
    }

    /// The first `stored` bytes (at most `limit`) of a body of which `storedTotal` bytes
    /// were kept and `bodyBytes` passed, decoded per `headers`' Content-Encoding when they
    /// are the whole body: what `load` makes of bytes already in hand (a replayed
    /// response compared as it arrived).
    public static func decoded(stored: [UInt8], storedTotal: UInt64, bodyBytes: UInt64, truncated: Bool,
                               headers: HTTPHeaders, limit: Int) -> LoadedBody {
        let whole = !truncated && UInt64(stored.count) == storedTotal
        var result = LoadedBody(bytes: stored, decoded: false, complete: whole, wireSize: bodyBytes, note: nil)
        if !whole {
            result.exceedsLimit = !truncated
            result.note = truncated
                ? "the capture kept only \(storedTotal) of \(bodyBytes) bytes"
                : "body larger than \(limit) bytes; only the start is shown"
        }
        let encoding = headers.values(name: "Content-Encoding").joined(separator: ",")
        guard !ContentDecoder.codings(encoding).isEmpty, whole else { return result }
        do throws(ContentDecodingError) {
            result.bytes = try ContentDecoder.decode(stored, contentEncoding: encoding, maxOutputBytes: limit)
            result.decoded = true
        } catch {
            switch error {
            case .unsupportedCoding: result.note = "\(error)"
            case .failed(let coding, .outputLimitExceeded(let limit)):
                result.exceedsLimit = true
                result.note = "decoded body larger than \(limit) bytes; the \(coding)-encoded bytes are shown"
            case .failed: break
            }
        }
        return result
    }
}
