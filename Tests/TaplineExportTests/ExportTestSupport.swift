import Foundation
import TaplineCapture
import TaplineFlow
import TaplineWire

/// One exchange of a test session.
struct TestExchange {
    var method: String
    var target: String
    var requestHeaders: [(String, String)] = []
    var requestBody: [UInt8] = []
    var status: Int
    var responseHeaders: [(String, String)] = []
    var responseBody: [UInt8] = []
}

/// Writes small capture sessions for the export tests through the real `CaptureWriter`.
enum ExportTestSupport {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "tapline-export-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// One connection, one complete HTTP/1.1 flow per exchange.
    static func session(root: String, _ exchanges: [TestExchange]) throws -> CapturedSession {
        let writer = try CaptureWriter(root: root)
        let base: Int64 = 1_790_000_000_000_000
        writer.record(.connectionOpened(connection: ConnectionID(1), client: "127.0.0.1:50000", listener: "127.0.0.1:8080",
                                        time: Timestamp(microseconds: base)))
        for (index, exchange) in exchanges.enumerated() {
            let flow = FlowID(UInt64(index + 1))
            let t = base + Int64(index) * 10_000
            func at(_ offset: Int64) -> Timestamp { Timestamp(microseconds: t + offset) }
            var timings = FlowTimings()
            timings.requestStart = at(10)
            timings.dnsStart = at(20)
            timings.dnsEnd = at(120)
            timings.connectStart = at(120)
            timings.connectEnd = at(400)
            timings.requestSent = at(600)
            timings.firstResponseByte = at(1600)
            timings.done = at(1900)
            writer.record(.flowStarted(flow: flow, connection: ConnectionID(1), kind: .http, scheme: "http",
                                       authority: "api.example.com:80", time: at(0)))
            let requestHeaders = HTTPHeaders([("Host", "api.example.com")] + exchange.requestHeaders.map { (name: $0.0, value: $0.1) })
            writer.record(.requestHead(flow: flow, head: HTTPRequestHead(method: exchange.method, target: exchange.target,
                                                                         headers: requestHeaders), time: at(10)))
            if !exchange.requestBody.isEmpty { writer.record(.requestBody(flow: flow, bytes: exchange.requestBody)) }
            writer.record(.requestEnd(flow: flow, trailers: nil, bodyBytes: UInt64(exchange.requestBody.count), time: at(600)))
            writer.record(.upstreamConnected(flow: flow, server: "93.184.216.34:80", tls: nil, reused: false, time: at(400)))
            let responseHeaders = HTTPHeaders(exchange.responseHeaders.map { (name: $0.0, value: $0.1) })
            writer.record(.responseHead(flow: flow, head: HTTPResponseHead(status: exchange.status, reason: "X",
                                                                           headers: responseHeaders), time: at(1600)))
            if !exchange.responseBody.isEmpty { writer.record(.responseBody(flow: flow, bytes: exchange.responseBody)) }
            writer.record(.responseEnd(flow: flow, trailers: nil, bodyBytes: UInt64(exchange.responseBody.count), time: at(1900)))
            writer.record(.flowEnded(flow: flow, timings: timings, bytesFromClient: 100, bytesFromServer: 200, error: nil,
                                     time: at(1900)))
        }
        writer.close()
        return try CapturedSession.open(directory: writer.directory)
    }
}
