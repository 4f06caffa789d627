/// A subcommand's arguments, consumed option by option.
///
/// Usage: `var args = CommandArguments(rest)`, then `args.flag("--quiet")`,
/// `try args.value("--listen")`, `args.positionals()`, and finally
/// `try args.finish()` which rejects anything not consumed. Options take their
/// value as the next argument or as `--name=value`.
struct CommandArguments {
    private var remaining: [String]

    init(_ arguments: [String]) {
        remaining = arguments
    }

    /// True (and consumed) if `name` is present.
    mutating func flag(_ name: String) -> Bool {
        guard let index = remaining.firstIndex(of: name) else { return false }
        remaining.remove(at: index)
        return true
    }

    /// The value of the last occurrence of option `name`, consumed; nil if absent.
    mutating func value(_ name: String) throws(UsageError) -> String? {
        values(name).last
    }

    /// Every value given for a repeatable option, consumed, in order.
    mutating func values(_ name: String) -> [String] {
        var found: [String] = []
        var index = 0
        while index < remaining.count {
            let argument = remaining[index]
            if argument == name, index + 1 < remaining.count, !remaining[index + 1].hasPrefix("--") || remaining[index + 1] == "-" {
                found.append(remaining[index + 1])
                remaining.removeSubrange(index...index + 1)
            } else if argument.hasPrefix(name + "=") {
                found.append(String(argument.dropFirst(name.count + 1)))
                remaining.remove(at: index)
            } else {
                index += 1
            }
        }
        return found
    }

    /// An integer option, validated.
    mutating func integer(_ name: String, range: ClosedRange<Int> = 0...Int.max) throws(UsageError) -> Int? {
        guard let text = try value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not \(text.debugDescription)")
        }
        return number
    }

    /// Every argument not starting with `--`, consumed.
    mutating func positionals() -> [String] {
        let found = remaining.filter { !$0.hasPrefix("--") || $0 == "-" }
        remaining.removeAll { !$0.hasPrefix("--") || $0 == "-" }
        return found
    }

    /// Throws for anything left over: an unknown option or a missing value.
    func finish() throws(UsageError) {
        if let first = remaining.first {
            throw UsageError(first.hasPrefix("--") ? "unknown option \(first) (or it is missing its value)" : "unexpected argument \(first.debugDescription)")
        }
    }
}

/// A wrong flag or argument: printed with the subcommand's usage, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
