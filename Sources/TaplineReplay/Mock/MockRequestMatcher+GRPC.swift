import TaplineExport
import TaplineProtobuf

extension MockRequestMatcher {
    /// nil when a live gRPC call's request messages equal the recorded call's, position by
    /// position, as JSON less `--ignore-body-path` (pointers within each message; schemaless
    /// decodes lined up by `RawProtobufAlignment` first); else
    /// where they differ, for the near-miss report: `request message 0: /customer/name
    /// (changed)`, `request message 1: only recorded`. A message that is not JSON on
    /// either side (not decoded) is equal only when its payload bytes are (`payloadDigest`).
    func grpcMessagesDifference(_ received: [(content: GRPCMessageContent, payloadDigest: String)],
                                _ recorded: [(content: GRPCMessageContent, payloadDigest: String)]) -> String? {
        var found: [String] = []
        for index in 0..<max(received.count, recorded.count) {
            let prefix = "request message \(index)"
            if index >= received.count {
                found.append("\(prefix): only recorded")
            } else if index >= recorded.count {
                found.append("\(prefix): only received")
            } else if var got = received[index].content.json, var want = recorded[index].content.json {
                if case .raw = received[index].content, case .raw = recorded[index].content {
                    (want, got) = RawProtobufAlignment.aligned(want, got)
                }
                let changes = JSONDiff(ignoredPaths: rules.ignoredBodyPaths).changes(from: want, to: got)
                guard !changes.isEmpty else { continue }
                found.append("\(prefix): " + changes.prefix(5)
                    .map { "\($0.pointer.text.isEmpty ? "/" : $0.pointer.text) (\($0.kind.rawValue))" }
                    .joined(separator: ", "))
            } else if received[index].payloadDigest != recorded[index].payloadDigest {
                found.append("\(prefix): not the same bytes (not decoded as JSON)")
            }
        }
        return found.isEmpty ? nil : found.joined(separator: "; ")
    }
}
