/// Capture failures with the file involved and what to do.
public enum CaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case notASession(path: String)
    case corrupt(path: String, line: Int, reason: String)
    case unsupportedVersion(path: String, version: Int)
    case sessionNotFound(String)
    case ambiguousSession(String, matches: [String])
    case flowNotFound(session: String, flow: UInt64)

    /// The file a create, write or read failed on (nil for the other cases).
    var filePath: String? {
        switch self {
        case .cannotCreate(let path, _), .cannotWrite(let path, _), .cannotRead(let path, _): return path
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .cannotCreate(let p, let r): return "cannot create \(p): \(r)"
        case .cannotWrite(let p, let r): return "cannot write \(p): \(r)"
        case .cannotRead(let p, let r): return "cannot read \(p): \(r)"
        case .notASession(let p): return "\(p) is not a Tapline capture session (no session.json)"
        case .corrupt(let p, let l, let r): return "\(p):\(l): \(r)"
        case .unsupportedVersion(let p, let v): return "\(p): capture format version \(v) is newer than this tapline understands; upgrade tapline"
        case .sessionNotFound(let s): return "no capture session \(s.debugDescription) (list them with `tapline sessions`)"
        case .ambiguousSession(let s, let m):
            return "\(s.debugDescription) matches \(m.count) sessions (\(m.prefix(5).joined(separator: ", "))\(m.count > 5 ? ", ..." : "")); give more of the id"
        case .flowNotFound(let s, let f): return "session \(s) has no flow \(f) (list them with `tapline show \(s)`)"
        }
    }
}
