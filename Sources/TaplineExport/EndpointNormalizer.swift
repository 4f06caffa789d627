import TaplineWire

/// Turns concrete request paths into endpoint templates
/// (`/users/42/orders/9f1c...` -> `/users/:userId/orders/:orderId`).
///
/// Two rules make a segment a variable:
/// 1. its shape (`PathSegmentKind.classify`): numbers, UUIDs, ULIDs, dates,
///    e-mail addresses, hex and base64url tokens;
/// 2. cardinality: among all paths of one origin that share the same
///    (templated) prefix, a position holding at least `cardinalityThreshold`
///    distinct literal values, at least half of which contain a digit, an
///    upper-case letter or a `.` (or any number of values from `cardinalityThreshold * 4`
///    up), is a variable for all of them. Plain API words (`users`, `orders`)
///    under one prefix stay literal unless there are very many.
///
/// Variables are named after the literal segment before them, singular and
/// camel-cased, with the kind's suffix (`users` -> `userId`, `order-items` ->
/// `orderItemId`, `reports/2024-01-31` -> `reportDate`); without one, `id`.
/// Repeated names in one template get `2`, `3`, ... The result depends only on
/// the set of paths and their order of first appearance (deterministic).
public struct EndpointNormalizer: Sendable {
    public var cardinalityThreshold: Int

    public init(cardinalityThreshold: Int = 6) {
        self.cardinalityThreshold = max(2, cardinalityThreshold)
    }

    /// One template per input path, in input order. `paths[i]` is (origin, raw segments).
    public func templates(for paths: [(origin: String, segments: [String])]) -> [PathTemplate] {
        var kinds: [[PathSegmentKind]] = paths.map { $0.segments.map(PathSegmentKind.classify) }
        let longest = paths.map(\.segments.count).max() ?? 0
        for position in 0..<longest {
            // Group the paths that reach this position by origin and templated prefix.
            var groups: [String: [Int]] = [:]
            var order: [String] = []
            for (index, path) in paths.enumerated() where path.segments.count > position {
                var key = path.origin
                for p in 0..<position {
                    key += "/" + (kinds[index][p].isVariable ? "\u{1}" : path.segments[p])
                }
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(index)
            }
            for key in order {
                guard let members = groups[key] else { continue }
                var distinct: [String] = []
                var seen: Set<String> = []
                for index in members where !kinds[index][position].isVariable {
                    let value = paths[index].segments[position]
                    if seen.insert(value).inserted { distinct.append(value) }
                }
                guard isHighCardinality(distinct) else { continue }
                for index in members where !kinds[index][position].isVariable {
                    kinds[index][position] = .token
                }
            }
        }
        return paths.indices.map { index in
            makeTemplate(segments: paths[index].segments, kinds: kinds[index])
        }
    }

    func isHighCardinality(_ values: [String]) -> Bool {
        guard values.count >= cardinalityThreshold else { return false }
        if values.count >= cardinalityThreshold * 4 { return true }
        let idLike = values.filter { value in
            value.contains { $0.isNumber || $0.isUppercase || $0 == "." }
        }.count
        return idLike * 2 >= values.count
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
