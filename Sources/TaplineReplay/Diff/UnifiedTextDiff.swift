/// A line diff of two texts in unified format (`@@ -l,n +l,n @@`, ` `, `-`, `+`
/// lines, three lines of context), with bounded cost and output.
///
/// The common first and last lines are set aside; the lines between are matched
/// by longest common subsequence when that table has at most `maxTableCells`
/// cells, else shown as removed and added whole (correct, not minimal). At most
/// `maxOutputLines` lines are kept; `omittedLines` counts the rest. Pure. A value type.
public struct UnifiedTextDiff: Sendable, Equatable {
    public private(set) var lines: [String] = []
    /// Diff lines left out past `maxOutputLines`.
    public private(set) var omittedLines = 0

    public static let context = 3
    public static let maxOutputLines = 200
    static let maxTableCells = 4_000_000

    private enum Edit {
        case keep(a: Int, b: Int)
        case remove(a: Int)
        case add(b: Int)
    }

    /// nil when the texts have the same lines.
    public init?(_ a: String, _ b: String) {
        let left = a.split(separator: "\n", omittingEmptySubsequences: false)
        let right = b.split(separator: "\n", omittingEmptySubsequences: false)
        let edits = Self.edits(left, right)
        guard edits.contains(where: { if case .keep = $0 { return false } else { return true } }) else { return nil }
        for hunk in Self.hunks(edits) {
            render(hunk, edits: edits, left: left, right: right)
        }
    }

    private static func edits(_ a: [Substring], _ b: [Substring]) -> [Edit] {
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix && suffix < b.count - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        var result: [Edit] = (0..<prefix).map { .keep(a: $0, b: $0) }
        let aRange = prefix..<(a.count - suffix)
        let bRange = prefix..<(b.count - suffix)
        if (aRange.count + 1) * (bRange.count + 1) <= maxTableCells {
            result += matched(a, aRange, b, bRange)
        } else {
            result += aRange.map { .remove(a: $0) }
            result += bRange.map { .add(b: $0) }
        }
        result += (0..<suffix).map { .keep(a: a.count - suffix + $0, b: b.count - suffix + $0) }
        return result
    }

    /// The edits between `a[aRange]` and `b[bRange]` by longest common subsequence.
    private static func matched(_ a: [Substring], _ aRange: Range<Int>, _ b: [Substring], _ bRange: Range<Int>) -> [Edit] {
        let n = aRange.count
        let m = bRange.count
        // lengths[i * (m + 1) + j]: LCS of a's lines from i and b's lines from j.
        var lengths = [Int32](repeating: 0, count: (n + 1) * (m + 1))
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lengths[i * (m + 1) + j] = a[aRange.lowerBound + i] == b[bRange.lowerBound + j]
                    ? lengths[(i + 1) * (m + 1) + j + 1] + 1
                    : max(lengths[(i + 1) * (m + 1) + j], lengths[i * (m + 1) + j + 1])
            }
        }
        var result: [Edit] = []
        var i = 0
        var j = 0
        while i < n || j < m {
            if i < n && j < m && a[aRange.lowerBound + i] == b[bRange.lowerBound + j] {
                result.append(.keep(a: aRange.lowerBound + i, b: bRange.lowerBound + j))
                i += 1
                j += 1
            } else if i < n && (j == m || lengths[(i + 1) * (m + 1) + j] >= lengths[i * (m + 1) + j + 1]) {
                // On a tie A's line goes first, so a changed line reads `-old` then `+new`.
                result.append(.remove(a: aRange.lowerBound + i))
                i += 1
            } else {
                result.append(.add(b: bRange.lowerBound + j))
                j += 1
            }
        }
        return result
    }

    /// Ranges of `edits` to print: each change with up to `context` kept lines
    /// around it, overlapping ones merged.
    private static func hunks(_ edits: [Edit]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for (index, edit) in edits.enumerated() {
            if case .keep = edit { continue }
            let range = max(0, index - context)..<min(edits.count, index + context + 1)
            if let last = result.last, last.upperBound >= range.lowerBound {
                result[result.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }

    private mutating func render(_ hunk: Range<Int>, edits: [Edit], left: [Substring], right: [Substring]) {
        var aStart: Int?
        var bStart: Int?
        var aCount = 0
        var bCount = 0
        var body: [String] = []
        for edit in edits[hunk] {
            switch edit {
            case .keep(let a, let b):
                aStart = aStart ?? a
                bStart = bStart ?? b
                aCount += 1
                bCount += 1
                body.append(" " + left[a])
            case .remove(let a):
                aStart = aStart ?? a
                aCount += 1
                body.append("-" + left[a])
            case .add(let b):
                bStart = bStart ?? b
                bCount += 1
                body.append("+" + right[b])
            }
        }
        // An empty side is written as the line before it, count 0 (as diff -u does).
        let aLine = aCount == 0 ? Self.lineBefore(hunk, edits: edits, a: true) : (aStart ?? 0) + 1
        let bLine = bCount == 0 ? Self.lineBefore(hunk, edits: edits, a: false) : (bStart ?? 0) + 1
        append("@@ -\(aLine),\(aCount) +\(bLine),\(bCount) @@")
        for line in body { append(line) }
    }

    /// The 1-based number of the last line of one side before `hunk` (0 at the start).
    private static func lineBefore(_ hunk: Range<Int>, edits: [Edit], a: Bool) -> Int {
        for edit in edits[..<hunk.lowerBound].reversed() {
            switch edit {
            case .keep(let x, let y): return (a ? x : y) + 1
            case .remove(let x): if a { return x + 1 }
            case .add(let y): if !a { return y + 1 }
            }
        }
        return 0
    }

    private mutating func append(_ line: String) {
        if lines.count < Self.maxOutputLines {
            lines.append(line)
        } else {
            omittedLines += 1
        }
    }
}
