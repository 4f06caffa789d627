/// Which message of a flow a body belongs to (`"dir"` in body events).
public enum BodyDirection: String, Sendable, Equatable, CaseIterable {
    case request
    case response
}
