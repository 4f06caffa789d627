/// What `HARExporter.write` wrote: how many entries, and which bodies were longer than
/// its `bodyLimit` (cut there, or left encoded because decoding would pass it), one
/// sentence each, e.g. `flow 3 response: body larger than 67108864 bytes; only the start is shown`.
public struct HARExportResult: Sendable, Equatable {
    public var entries: Int
    public var bodiesOverLimit: [String]
}
