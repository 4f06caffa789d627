import Foundation
/// Decides which recordings answer a live request (pure: no I/O, no state; the
/// sequence position is `MockResponder`'s).
///
/// A recording matches when method, path, WebSocket opening or not, query (a multiset, less `--ignore-query`
/// names), body (`MockRequestBody`: JSON structurally less `--ignore-body-path`, forms
/// as field sets, a gRPC call's request messages each as JSON less `--ignore-body-path`
/// inside every message, else bytes) and every `--match-header` field are equal. Of the
/// matches, the strongest win (Hoverfly's "strongest match"): those that are also equal
/// where the rules let them differ (the ignored query parameters, the ignored body
/// paths) before those that are not. The winners, in recorded order, are one sequence:
/// identical requests answered in turn (`MockSequenceMode`).
///
/// When nothing matches, `nearMisses` ranks the recordings by how far off they are
/// (`MockMismatch.weight`) and says why each does not match (WireMock's near-miss report).
public struct MockRequestMatcher: Sendable {
    public var rules: MockMatchRules

    public init(rules: MockMatchRules = MockMatchRules()) {
        self.rules = rules
    }

    /// Indices into `recordings` of the strongest matches of `request`, in recorded order; empty when none matches.
    public func matches(_ request: MockRequest, in recordings: [MockRecording]) -> [Int] {
        matches(request, in: recordings, candidates: recordings.indices)
    }

    /// As `matches(_:in:)`, looking only at `candidates` (ascending indices into
    /// `recordings`: those with the request's method and path, `MockResponder`'s index).
    public func matches(_ request: MockRequest, in recordings: [MockRecording], candidates: some Sequence<Int>) -> [Int] {
        var best: [Int] = []
        var bestStrength = -1
        for index in candidates where mismatches(request, recordings[index].request).isEmpty {
            let strength = exactness(request, recordings[index].request)
            if strength > bestStrength {
                best = [index]
                bestStrength = strength
            } else if strength == bestStrength {
                best.append(index)
            }
        }
        return best
    }

    /// The `limit` recordings closest to `request`, each with why it does not match: by
    /// the summed `MockMismatch.weight` of their differences, then by the longest path
    /// prefix shared with the request (`/blobs` is closer to `/blob` than to `/api/users`),
    /// then in recorded order.
    public func nearMisses(_ request: MockRequest, in recordings: [MockRecording],
                           limit: Int = 3) -> [(index: Int, mismatches: [MockMismatch])] {
        let ranked = recordings.indices.map { index in
            let found = mismatches(request, recordings[index].request)
            return (index: index, mismatches: found, distance: found.reduce(0) { $0 + $1.weight },
                    sharedPath: request.path.commonPrefix(with: recordings[index].request.path).count)
        }
        return ranked.sorted { left, right in
            if left.distance != right.distance { return left.distance < right.distance }
            if left.sharedPath != right.sharedPath { return left.sharedPath > right.sharedPath }
            return left.index < right.index
        }.prefix(limit).map { (index: $0.index, mismatches: $0.mismatches) }
    }

    /// Why `recorded` does not match `received` under the rules; empty when it does.
    public func mismatches(_ received: MockRequest, _ recorded: MockRequest) -> [MockMismatch] {
        var found: [MockMismatch] = []
        if received.method != recorded.method {
            found.append(MockMismatch(field: "method", recorded: recorded.method, received: received.method))
        }
        if received.isWebSocket != recorded.isWebSocket {
            found.append(MockMismatch(field: "upgrade", recorded: recorded.isWebSocket ? "websocket" : "none",
                                      received: received.isWebSocket ? "websocket" : "none"))
        }
        if received.path != recorded.path {
            found.append(MockMismatch(field: "path", recorded: recorded.path, received: received.path))
        }
        let (receivedQuery, recordedQuery) = (comparedQuery(received.query), comparedQuery(recorded.query))
        if receivedQuery != recordedQuery {
            found.append(MockMismatch(field: "query", recorded: recordedQuery.joined(separator: "&"),
                                      received: receivedQuery.joined(separator: "&")))
        }
        if let difference = bodyDifference(received.body, recorded.body) {
            found.append(MockMismatch(field: "body", recorded: recorded.body.summary,
                                      received: difference.isEmpty ? received.body.summary : difference))
        }
        for name in rules.matchedHeaders {
            let (got, want) = (received.headerValue(name), recorded.headerValue(name))
            if got != want { found.append(MockMismatch(field: "header \(name)", recorded: want, received: got)) }
        }
        return found
    }

    /// The query less the ignored names (still sorted, repeats kept).
    private func comparedQuery(_ query: [String]) -> [String] {
        guard !rules.ignoredQueryNames.isEmpty else { return query }
        return query.filter { pair in
            let name = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? pair
            return !rules.ignoredQueryNames.contains(name)
        }
    }

    /// nil when the bodies are equal under the rules; else the JSON Pointers that differ
    /// ("" when the bodies are not both JSON).
    private func bodyDifference(_ received: MockRequestBody, _ recorded: MockRequestBody) -> String? {
        if case .grpc(let got, let gotDigests) = received, case .grpc(let want, let wantDigests) = recorded {
            return grpcMessagesDifference(Array(zip(got, gotDigests)), Array(zip(want, wantDigests)))
        }
        if case .json(let got) = received, case .json(let want) = recorded {
            let changes = JSONDiff(ignoredPaths: rules.ignoredBodyPaths).changes(from: want, to: got)
            guard !changes.isEmpty else { return nil }
            return "JSON differs at " + changes.prefix(5).map { "\($0.pointer.text.isEmpty ? "/" : $0.pointer.text) (\($0.kind.rawValue))" }
                .joined(separator: ", ")
        }
        return received == recorded ? nil : ""
    }

    /// How many of the parts the rules loosen are equal anyway (the strength of a match).
    private func exactness(_ received: MockRequest, _ recorded: MockRequest) -> Int {
        var strength = 0
        if received.query == recorded.query { strength += 1 }
        if received.body == recorded.body { strength += 1 }
        return strength
    }
}
