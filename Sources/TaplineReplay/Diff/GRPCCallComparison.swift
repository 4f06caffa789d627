import TaplineExport
import TaplineProtobuf
import TaplineCapture
import TaplineWire

/// Compares two captured gRPC calls as gRPC (`GRPCCallView`s), where `SessionDiff`
/// compares other flows' bodies: the request and the response messages each position
/// by position (per direction, from 0), as JSON (`JSONDiff`, with its ignore rules
/// applied inside every message), missing and extra messages, and the decoded
/// `grpc-status-details-bin` (a `google.rpc.Status` as JSON). The status code and
/// `grpc-message`, metadata and trailers are `SessionDiff`'s (`FlowDifference.grpcStatus`,
/// header and trailer rules on `comparedFields`).
///
/// Two encodings of one message compare equal: the JSON form does not keep field order,
/// packed or unpacked repeated fields (with a schema; without one as far as
/// `RawProtobufAlignment` lines them up), or varint spelling. Pure. A value type.
public struct GRPCCallComparison: Sendable {
    public var json: JSONDiff

    public init(json: JSONDiff = JSONDiff()) {
        self.json = json
    }

    /// `fields` less those gRPC reserves for itself (names starting `grpc-`): the status
    /// (`FlowDifference.grpcStatus`) and its details (compared decoded here), and the
    /// transport's `grpc-encoding`, `grpc-accept-encoding`, `grpc-timeout`. What is left
    /// is compared by the header and trailer rules: the call's metadata and HTTP fields.
    public static func comparedFields(_ fields: HTTPHeaders) -> HTTPHeaders {
        var kept = HTTPHeaders()
        for field in fields where !field.name.lowercased().hasPrefix("grpc-") {
            kept.add(name: field.name, value: field.value)
        }
        return kept
    }

    /// How B's call differs from A's: request messages, response messages, then status details.
    public func differences(_ a: GRPCCallView, _ b: GRPCCallView) -> [FlowDifference] {
        var found: [FlowDifference] = []
        for direction in [BodyDirection.request, .response] {
            let left = a.messages.filter { $0.direction == direction }
            let right = b.messages.filter { $0.direction == direction }
            for index in 0..<max(left.count, right.count) {
                let change: GRPCMessageDifference.Change?
                if index >= right.count {
                    change = .missing(wireBytes: left[index].wireBytes)
                } else if index >= left.count {
                    change = .extra(wireBytes: right[index].wireBytes)
                } else {
                    change = messageChange(left[index].content, right[index].content)
                }
                if let change { found.append(.grpcMessage(GRPCMessageDifference(direction: direction, index: index, change: change))) }
            }
        }
        let details = json.changes(from: a.statusDetails ?? .object([]), to: b.statusDetails ?? .object([]))
        if !details.isEmpty { found.append(.grpcStatusDetails(details)) }
        return found
    }

    private func messageChange(_ a: GRPCMessageContent, _ b: GRPCMessageContent) -> GRPCMessageDifference.Change? {
        if var left = a.json, var right = b.json {
            if case .raw = a, case .raw = b { (left, right) = RawProtobufAlignment.aligned(left, right) }
            let changes = json.changes(from: left, to: right)
            return changes.isEmpty ? nil : .json(changes)
        }
        return a == b ? nil : .notCompared(a: Self.describe(a), b: Self.describe(b))
    }

    private static func describe(_ content: GRPCMessageContent) -> String {
        switch content {
        case .decoded, .raw, .json: "JSON"
        case .notDecoded(let reason): "not decoded: \(reason)"
        case .incomplete(let stored, let declared):
            "incomplete: \(stored) of \(declared.map(String.init) ?? "?") bytes recorded"
        }
    }
}
