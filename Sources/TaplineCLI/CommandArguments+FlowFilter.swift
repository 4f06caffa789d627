import TaplineExport

extension CommandArguments {
    /// Every `--filter EXPR` given, consumed and parsed into one filter (terms ANDed);
    /// a term that does not parse is a usage error naming it (docs/filters.md).
    mutating func flowFilter() throws(UsageError) -> FlowFilter {
        do {
            return try FlowFilter.parse(values("--filter"))
        } catch {
            throw UsageError("\(error)")
        }
    }
}
