/// How `tapline export --postman` arranges requests in folders (`--group-by`).
///
/// Path folders are named by the first path segment that distinguishes the
/// endpoints they sort (`folderDepth`): a prefix every endpoint shares, like
/// `api/v1`, names no folder, so `/api/v1/users/…`, `/api/v1/orders/…` and
/// `/api/v1/items/…` go to folders `users`, `orders` and `items`.
public enum PostmanGrouping: String, Sendable, CaseIterable {
    /// A folder per host, inside it a folder per distinguishing path segment.
    case host
    /// A folder per distinguishing path segment, hosts mixed.
    case path
    /// No folders.
    case none

    /// The path position that names the folders of `templates`: the number of
    /// leading positions where every template has the same literal segment and
    /// a literal segment after it. So the folder segment is never a variable
    /// (`/api/v1/users/:userId` alone goes to `users`), and templates that
    /// differ at the first position give depth 0. Pure.
    public static func folderDepth(of templates: [PathTemplate]) -> Int {
        guard let first = templates.first else { return 0 }
        var depth = 0
        while depth + 1 < first.segments.count,
              case .literal(let shared) = first.segments[depth],
              templates.allSatisfy({ $0.segments.count > depth + 1 && $0.segments[depth] == .literal(shared)
                                       && !$0.segments[depth + 1].isVariable }) {
            depth += 1
        }
        return depth
    }
}
