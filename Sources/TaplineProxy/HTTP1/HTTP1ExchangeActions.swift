/// The actions one event of `HTTP1ExchangeStateMachine` produced, in order: at most
/// `capacity`, held inline so that an event on the hot path (a body chunk) costs no
/// allocation.
///
/// Invariant: slots `0..<count` are set, the rest nil. Appending past `capacity` is
/// a programming error in the machine (no event produces that many).
struct HTTP1ExchangeActions: Sequence {
    static let capacity = 6
    private var first, second, third, fourth, fifth, sixth: HTTP1ExchangeAction?
    private(set) var count = 0

    init() {}

    init(_ action: HTTP1ExchangeAction) {
        first = action
        count = 1
    }

    var isEmpty: Bool { count == 0 }

    mutating func append(_ action: HTTP1ExchangeAction) {
        switch count {
        case 0: first = action
        case 1: second = action
        case 2: third = action
        case 3: fourth = action
        case 4: fifth = action
        case 5: sixth = action
        default: preconditionFailure("an HTTP/1 exchange event produced more than \(Self.capacity) actions")
        }
        count += 1
    }

    mutating func append(contentsOf other: HTTP1ExchangeActions) {
        for action in other { append(action) }
    }

    subscript(index: Int) -> HTTP1ExchangeAction {
        precondition(index >= 0 && index < count, "action \(index) of \(count)")
        switch index {
        case 0: return first!
        case 1: return second!
        case 2: return third!
        case 3: return fourth!
        case 4: return fifth!
        default: return sixth!
        }
    }

    struct Iterator: IteratorProtocol {
        fileprivate let actions: HTTP1ExchangeActions
        fileprivate var index = 0

        mutating func next() -> HTTP1ExchangeAction? {
            guard index < actions.count else { return nil }
            defer { index += 1 }
            return actions[index]
        }
    }

    func makeIterator() -> Iterator { Iterator(actions: self) }
}
