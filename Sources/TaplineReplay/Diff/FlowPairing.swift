/// Pairs the flows of session A with those of session B by their `RequestKey`s,
/// in order: the n-th A request with a key is paired with the n-th B request with
/// the same key. Two passes: first on the exact path, then, among the flows left,
/// on the templated path (`/users/42` meets `/users/43`). What is left is unpaired.
///
/// A replay session will link each of its flows to the flow it replayed (issue
/// #23's `tapline replay`); that link, when the capture format has it, becomes
/// the first pass here. The format has no such field today. Pure.
public enum FlowPairing {
    public static func pair(_ a: [RequestKey], _ b: [RequestKey]) -> FlowPairs {
        var partnerOfA = [Int?](repeating: nil, count: a.count)
        var takenB = [Bool](repeating: false, count: b.count)
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
