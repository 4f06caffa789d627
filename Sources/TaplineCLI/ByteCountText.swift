/// Human-readable byte counts in SI units, as people read them in a terminal:
/// `512 B`, `1.2 kB`, `34 MB`, `1.1 GB`.
enum ByteCountText {
    static func format<T: BinaryInteger>(_ count: T) -> String {
        let value = Double(count)
        if value < 1000 { return "\(count) B" }
        let units = ["kB", "MB", "GB", "TB", "PB"]
        var scaled = value / 1000
        var unit = 0
        while scaled >= 1000, unit < units.count - 1 {
            scaled /= 1000
            unit += 1
        }
        let text = scaled < 10 ? String(Double(Int(scaled * 10 + 0.5)) / 10) : String(Int(scaled + 0.5))
        return "\(text) \(units[unit])"
    }
}
