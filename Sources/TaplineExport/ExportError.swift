import TaplineCapture

/// Why an export or import failed, with what to do about it.
public enum ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A session could not be read.
    case capture(CaptureError)
    /// The output file or a file beside it could not be written.
    case cannotWrite(path: String, reason: String)
    /// An input file could not be read.
    case cannotRead(path: String, reason: String)
    /// The HAR file is not JSON.
    case harNotJSON(path: String, reason: String)
    /// A field of the HAR is missing or has the wrong type; `location` names the entry and field
    /// (`log.entries[3].request.url`).
    case harInvalid(path: String, location: String, reason: String)
    /// The filter selected nothing to export.
    case nothingToExport(String)

    public var description: String {
        switch self {
        case .capture(let error): return "\(error)"
        case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
        case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
        case .harNotJSON(let path, let reason): return "\(path) is not a HAR file: \(reason)"
        case .harInvalid(let path, let location, let reason): return "\(path): \(location): \(reason)"
        case .nothingToExport(let why): return "nothing to export: \(why)"
        }
    }
}
