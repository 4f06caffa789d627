import TaplineCapture
import TaplineWire

/// The log-level fields of an imported HAR file — `pages`, `browser`, `comment` and
/// `_`-prefixed custom fields — kept with the session as its `har` extension so
/// that `tapline export --har` writes them back (docs/export.md, "Round trip").
/// `version`, `creator` and `entries` are not kept: the exporter writes its own
/// version and creator, and the entries are the flows. A value type, pure.
struct HARRecordedLog: Sendable, Equatable {
    /// The extension name on the session (`CapturedSession.extensions`).
    static let extensionName = "har"

    /// The recorded members, in their order.
    let members: [JSONMember]

    /// The recorded part of `log`, the log object of a HAR file being imported.
    init(importing log: JSONValue) {
        members = (log.objectMembers ?? []).filter { !["version", "creator", "entries"].contains($0.key) }
    }

    /// The session's recorded log, when it was imported from a HAR.
    init?(session: CapturedSession) {
        guard let value = session.extensions[Self.extensionName], let members = JSONValue(capture: value).objectMembers else {
            return nil
        }
        self.members = members
    }

    var fields: JSONValue { .object(members) }

    /// `log.pages` as recorded, when it is an array of objects (HAR 1.2's type); else nil.
    var pages: JSONValue? {
        guard let pages = members.first(where: { $0.key == "pages" })?.value,
              let list = pages.arrayValue, list.allSatisfy({ $0.objectMembers != nil }) else { return nil }
        return pages
    }

    /// What goes after `pages` in the exported log: `browser` (when an object), a string
    /// `comment` and the custom fields, in recorded order (a `browser` or `comment` of
    /// another type, invalid HAR 1.2, is left out).
    var otherMembers: [JSONMember] {
        members.filter { member in
            switch member.key {
            case "pages": return false
            case "browser": return member.value.objectMembers != nil
            case "comment": return member.value.stringValue != nil
            default: return true
            }
        }
    }
}
