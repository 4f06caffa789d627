/// Shell-style wildcard matching for filters: `*` matches any run of
/// characters except `separator`, `**` any run including it, `?` one
/// character. Pure; iterative backtracking, linear-ish on real input.
enum Glob {
    static func matches(_ pattern: String, _ text: String, separator: Character) -> Bool {
        let p = Array(pattern), t = Array(text)
        return match(p, 0, t, 0, separator, depth: 0)
    }

    private static func match(_ p: [Character], _ pi: Int, _ t: [Character], _ ti: Int, _ separator: Character, depth: Int) -> Bool {
        var pi = pi, ti = ti
        guard depth < 64 else { return false }
        while pi < p.count {
            if p[pi] == "*" {
                let crossing = pi + 1 < p.count && p[pi + 1] == "*"
                let next = pi + (crossing ? 2 : 1)
                if next == p.count { return crossing || !t[ti...].contains(separator) }
                var k = ti
                while k <= t.count {
                    if match(p, next, t, k, separator, depth: depth + 1) { return true }
                    if k == t.count || (!crossing && t[k] == separator) { break }
                    k += 1
                }
                return false
            }
            guard ti < t.count, p[pi] == "?" || p[pi] == t[ti] else { return false }
            pi += 1
            ti += 1
        }
        return ti == t.count
    }
}
