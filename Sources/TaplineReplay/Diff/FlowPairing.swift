/// Pairs the flows of session A with those of session B, in three passes:
/// 1. by link: when B is a replay of A, each B flow names the A flow it re-sent
///    (`links`, by index); the first B flow of each A flow is paired with it (a
///    `--repeat` replay's later copies go on to the next passes);
/// 2. by `RequestKey`, in order, on the exact path: the n-th A request with a key is
///    paired with the n-th B request with the same key;
/// 3. the same among the flows left, on the templated path (`/users/42` meets `/users/43`).
/// What is left is unpaired. Pure.
public enum FlowPairing {
    public static func pair(_ a: [RequestKey], _ b: [RequestKey], links: [(a: Int, b: Int)] = []) -> FlowPairs {
        var partnerOfA = [Int?](repeating: nil, count: a.count)
        var takenB = [Bool](repeating: false, count: b.count)
        for link in links where a.indices.contains(link.a) && b.indices.contains(link.b) {
            guard partnerOfA[link.a] == nil, !takenB[link.b] else { continue }
            partnerOfA[link.a] = link.b
            takenB[link.b] = true
        }
        for match in [\RequestKey.exactMatch, \RequestKey.templateMatch] {
            var waitingB: [RequestKey.Match: [Int]] = [:]
            for (index, key) in b.enumerated() where !takenB[index] {
                waitingB[key[keyPath: match], default: []].append(index)
            }
            var nextOfKey: [RequestKey.Match: Int] = [:]
            for (index, key) in a.enumerated() where partnerOfA[index] == nil {
                let wanted = key[keyPath: match]
                guard let candidates = waitingB[wanted] else { continue }
                let next = nextOfKey[wanted, default: 0]
                guard next < candidates.count else { continue }
                nextOfKey[wanted] = next + 1
                partnerOfA[index] = candidates[next]
                takenB[candidates[next]] = true
            }
        }
        return FlowPairs(
            pairs: partnerOfA.enumerated().compactMap { index, partner in partner.map { (index, $0) } },
            unpairedA: partnerOfA.indices.filter { partnerOfA[$0] == nil },
            unpairedB: takenB.indices.filter { !takenB[$0] })
    }
}
