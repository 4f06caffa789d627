import Foundation
import TaplineCapture
import TaplineExport
import TaplineHTTPClient
import TaplineWire

/// What a `RecordedResponseLeg` answers one request with: a recorded response (head as
/// recorded, body streamed from the capture's segment files, trailers) or one the mock
/// makes (the near-miss 404, the WebSocket 501), and how long to wait first. A value type.
struct MockResponse: Sendable {
    enum Body: Sendable {
        /// Read from the capture in chunks as the owner takes them.
        case recorded(CapturedBody)
        case generated([UInt8])
    }

    var head: HTTPResponseHead
    /// How the body is delimited, in HTTP/1.1 terms (`LegResponseHead.framing`).
    var framing: HTTP1BodyFraming
    /// For a bodiless response (HEAD, 204, 304): its recorded Content-Length.
    var statedContentLength: Int?
    /// The head is the whole response: an HTTP/2 recording with no body and no trailers
    /// (a gRPC trailers-only response must reach an HTTP/2 client as one HEADERS frame
    /// that ends the stream, `LegResponseHead.endsStream`).
    var headEndsStream = false
    var body: Body
    var trailers: HTTPHeaders?
    var delayMilliseconds: Int
    /// Why the recording cannot be served faithfully (a truncated body): the leg fails with it.
    var problem: String?

    /// The recorded response of `flow` to a `requestMethod` request.
    static func recorded(_ flow: CapturedFlow, head: HTTPResponseHead, requestMethod: String,
                         delayMilliseconds: Int) -> MockResponse {
        let stated = head.headers.first(name: "Content-Length").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let framing: HTTP1BodyFraming
        if requestMethod == "HEAD" || head.status == 204 || head.status == 304 || head.status < 200 {
            framing = .none
        } else if head.version == .http2 {
            framing = stated.map(HTTP1BodyFraming.contentLength)
                ?? (flow.responseBody.capturedBytes == 0 && flow.responseTrailers == nil ? .contentLength(0) : .chunked)
        } else if head.headers.values(name: "Transfer-Encoding").contains(where: { $0.lowercased().contains("chunked") }) {
            framing = .chunked
        } else {
            framing = stated.map(HTTP1BodyFraming.contentLength) ?? .untilClose
        }
        var problem: String?
        if flow.responseBody.truncated {
            problem = "the recorded response body of flow \(flow.id) was truncated by --max-body-capture (\(flow.responseBody.capturedBytes) of \(flow.responseBody.bodyBytes) bytes kept): it cannot be served"
        }
        let headEndsStream = head.version == .http2 && flow.responseBody.bodyBytes == 0 && flow.responseTrailers == nil
        return MockResponse(head: head, framing: framing, statedContentLength: framing == .none ? stated : nil,
                            headEndsStream: headEndsStream, body: .recorded(flow.responseBody),
                            trailers: flow.responseTrailers, delayMilliseconds: delayMilliseconds, problem: problem)
    }

    /// A response the mock makes: `status` with a JSON body.
    static func generated(status: Int, json: JSONValue) -> MockResponse {
        let body = Array((JSONWriter.text(json) + "\n").utf8)
        let head = HTTPResponseHead(status: status, reason: HTTPStatusText.reason(status),
                                    headers: HTTPHeaders([("Content-Type", "application/json"),
                                                          ("Content-Length", String(body.count))]))
        return MockResponse(head: head, framing: .contentLength(body.count), statedContentLength: nil,
                            body: .generated(body), trailers: nil, delayMilliseconds: 0, problem: nil)
    }

    /// A gRPC trailers-only response the mock makes (an unmatched call): an HTTP/2 200 whose head
    /// carries `grpc-status`, `grpc-message` (percent-encoded as gRPC requires) and
    /// `metadata`, and ends the stream (PROTOCOL-HTTP2.md, "Trailers-Only").
    static func generatedGRPC(status: GRPCStatus, metadata: [(String, String)]) -> MockResponse {
        let printableButPercent = String((0x20...0x7E).compactMap { $0 == 0x25 ? nil : Character(UnicodeScalar(UInt8($0))) })
        var fields = [(":status", "200"), ("content-type", "application/grpc"), ("grpc-status", String(status.code)),
                      ("grpc-message", PercentEncoding.encode(status.message, keep: printableButPercent))]
        fields += metadata
        // An HTTP/2 block, as a recorded HTTP/2 head is, so an HTTP/2 owner sends it as is and ends the stream with it.
        let head = HTTP2HeadTranslator.capturedResponse(HTTPHeaders(fields.map { (name: $0.0, value: $0.1) }))
        return MockResponse(head: head, framing: .contentLength(0), statedContentLength: nil, headEndsStream: true,
                            body: .generated([]), trailers: nil, delayMilliseconds: 0, problem: nil)
    }
}
