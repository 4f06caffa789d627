import Foundation
import TaplineCapture
import TaplineFlow
import TaplineWire
@testable import TaplineReplay

/// Builds `MockRecording`s for the mock's unit tests: a captured flow with a request and
/// a response whose body is stored in a real segment file under `directory` (so a
/// `RecordedResponseLeg` streams it as it would from a session).
final class MockRecordingFixture {
    let directory: String
    private var segmentLength: UInt64 = 0
    private var nextFlow: UInt64 = 1

    init() throws {
        directory = NSTemporaryDirectory() + "tapline-mock-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/bodies", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/bodies/000001.bin", contents: Data())
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A recording of `method target` (with `requestHeaders` and `requestBody`) answered
    /// by `status`, `responseHeaders`, `responseBody` (stored) and `trailers`.
    func recording(_ method: String, _ target: String, requestHeaders: [(String, String)] = [], requestBody: [UInt8] = [],
                   status: Int = 200, responseHeaders: [(String, String)] = [], responseBody: [UInt8] = [],
                   trailers: HTTPHeaders? = nil, version: HTTPVersion = .http1_1) throws -> MockRecording {
        var flow = CapturedFlow(id: FlowID(nextFlow), connection: ConnectionID(1), kind: .http, scheme: "http",
                                authority: "origin.test", started: .now(), sessionDirectory: directory)
        nextFlow += 1
        let requestHead = HTTPRequestHead(method: method, target: target, version: .http1_1,
                                          headers: HTTPHeaders(requestHeaders.map { (name: $0.0, value: $0.1) }))
        flow.request = requestHead
        flow.response = HTTPResponseHead(version: version, status: status, reason: "", headers: HTTPHeaders(responseHeaders.map { (name: $0.0, value: $0.1) }))
        flow.responseTrailers = trailers
        if !responseBody.isEmpty {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/bodies/000001.bin"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(responseBody))
            try handle.close()
            flow.responseBody.extents = [BodyExtent(segment: 1, offset: segmentLength, length: UInt64(responseBody.count))]
            segmentLength += UInt64(responseBody.count)
        }
        flow.responseBody.capturedBytes = UInt64(responseBody.count)
        flow.responseBody.bodyBytes = UInt64(responseBody.count)
        flow.responseBody.isComplete = true
        let request = MockRequest(method: method, target: target, headers: requestHead.headers, body: requestBody)
        return MockRecording(flow: flow, session: "s", request: request)
    }
}
