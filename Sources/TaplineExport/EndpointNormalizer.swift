import TaplineWire

/// Turns concrete request paths into endpoint templates
/// (`/users/42/orders/9f1c...` -> `/users/:userId/orders/:orderId`).
///
/// Two rules make a segment a variable:
/// 1. its shape (`PathSegmentKind.classify`): numbers, UUIDs, ULIDs, dates,
///    e-mail addresses, hex and base64url tokens;
/// 2. its siblings: among the requests of one origin that share the same
///    (templated) prefix, the values at a position are one variable when at
///    least `cardinalityThreshold` distinct values come from sibling requests,
///    i.e. requests with the same method, the same rest of the path and the
///    same `ResponseKind` (status class, media type, JSON top-level keys).
///    Never counted: file names (`PathSegmentKind.isFileName`), a value
///    directly followed by a shape variable (`users` in `/users/42` names a
///    collection), requests without a response. A value found to be a variable
///    is one at that position under that prefix whatever follows it and however
///    it was answered (`/items/red-widget/reviews` -> `/items/:itemId/reviews`).
///
/// So an API's `/api/v1/items/red-widget`, `/api/v1/items/blue-widget`, ...
/// (six slugs answered 200 with JSON objects of the same keys) become
/// `/api/v1/items/:itemId`, while a web site's `/data.json`, `/redirect` (3xx),
/// `/sse` (text/event-stream), `/favicon.ico`, `/big.bin` and `POST /api/echo`
/// stay six requests: different kinds of response are never merged.
///
/// Variables are named after the literal segment before them, singular and
/// camel-cased, with the kind's suffix (`users` -> `userId`, `order-items` ->
/// `orderItemId`, `reports/2024-01-31` -> `reportDate`); without one, `id`.
/// Repeated names in one template get `2`, `3`, ... The result depends only on
/// the requests and their order (deterministic); no I/O.
public struct EndpointNormalizer: Sendable {
    public var cardinalityThreshold: Int

    public init(cardinalityThreshold: Int = 6) {
        self.cardinalityThreshold = max(2, cardinalityThreshold)
    }

    /// What sibling requests have in common besides origin and prefix.
    private struct Siblings: Hashable {
        var method: String
        /// The segments after the position; nil for a variable.
        var rest: [String?]
        var response: ResponseKind
    }

    /// One template per request, in input order.
    public func templates(for requests: [ObservedRequest]) -> [PathTemplate] {
        var kinds: [[PathSegmentKind]] = requests.map { $0.segments.map(PathSegmentKind.classify) }
        let longest = requests.map(\.segments.count).max() ?? 0
        for position in 0..<longest {
            // Group the requests that reach this position by origin and templated prefix.
            var groups: [String: [Int]] = [:]
            var order: [String] = []
            for (index, request) in requests.enumerated() where request.segments.count > position {
                var key = request.origin
                for p in 0..<position {
                    key += "/" + (kinds[index][p].isVariable ? "\u{1}" : request.segments[p])
                }
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(index)
            }
            for key in order {
                guard let members = groups[key] else { continue }
                let values = variableValues(at: position, of: members, requests: requests, kinds: kinds)
                guard !values.isEmpty else { continue }
                for index in members where !kinds[index][position].isVariable
                    && values.contains(requests[index].segments[position]) {
                    kinds[index][position] = .slug
                }
            }
        }
        return requests.indices.map { index in
            makeTemplate(segments: requests[index].segments, kinds: kinds[index])
        }
    }

    /// The literal values at `position` that sibling requests among `members`
    /// (one origin, one templated prefix) show to be one variable.
    private func variableValues(at position: Int, of members: [Int], requests: [ObservedRequest],
                                kinds: [[PathSegmentKind]]) -> Set<String> {
        var distinct: [Siblings: Set<String>] = [:]
        for index in members where !kinds[index][position].isVariable {
            let request = requests[index]
            let value = request.segments[position]
            guard let response = request.response, !PathSegmentKind.isFileName(value) else { continue }
            let next = position + 1
            if next < request.segments.count && kinds[index][next].isVariable { continue }
            let rest = (next..<request.segments.count).map { kinds[index][$0].isVariable ? nil : request.segments[$0] }
            distinct[Siblings(method: request.method, rest: rest, response: response), default: []].insert(value)
        }
        var result: Set<String> = []
        for values in distinct.values where values.count >= cardinalityThreshold {
            result.formUnion(values)
        }
        return result
    }

    private func makeTemplate(segments: [String], kinds: [PathSegmentKind]) -> PathTemplate {
        var result: [PathTemplate.Segment] = []
        var used: Set<String> = []
        for (position, segment) in segments.enumerated() {
            let kind = kinds[position]
            guard kind.isVariable else {
                result.append(.literal(segment))
                continue
            }
            var base = "id"
            if position > 0, !kinds[position - 1].isVariable {
                let stem = Self.camelCase(Self.singular(PercentEncoding.decode(segments[position - 1])))
                if !stem.isEmpty { base = stem + kind.nameSuffix }
            } else if kind == .date {
                base = "date"
            } else if kind == .email {
                base = "email"
            }
            var name = base
            var counter = 2
            while used.contains(name) {
                name = base + String(counter)
                counter += 1
            }
            used.insert(name)
            result.append(.variable(name: name, kind: kind))
        }
        return PathTemplate(segments: result)
    }

    /// `users` -> `user`, `categories` -> `category`, `addresses` -> `address`; other words unchanged.
    static func singular(_ word: String) -> String {
        let lower = word.lowercased()
        if lower.hasSuffix("ies") && lower.count > 3 { return String(word.dropLast(3)) + "y" }
        if lower.hasSuffix("sses") || lower.hasSuffix("xes") || lower.hasSuffix("ches") || lower.hasSuffix("shes") {
            return String(word.dropLast(2))
        }
        if lower.hasSuffix("s") && !lower.hasSuffix("ss") && !lower.hasSuffix("us") && lower.count > 1 {
            return String(word.dropLast())
        }
        return word
    }

    /// `order-items` -> `orderItems`, `X_API_Key` -> `xApiKey`; an identifier starting with a letter
    /// (a leading digit gets `v`), empty when there is nothing alphanumeric.
    public static func camelCase(_ text: String) -> String {
        var words: [String] = []
        var current = ""
        for character in text {
            if character.isASCII && (character.isLetter || character.isNumber) {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        guard !words.isEmpty else { return "" }
        var result = ""
        for (index, word) in words.enumerated() {
            let lower = word == word.uppercased() ? word.lowercased() : word
            if index == 0 {
                result += lower.prefix(1).lowercased() + lower.dropFirst()
            } else {
                result += lower.prefix(1).uppercased() + lower.dropFirst()
            }
        }
        if let first = result.first, first.isNumber { result = "v" + result }
        return result
    }
}
