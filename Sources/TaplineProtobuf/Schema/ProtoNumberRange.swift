/// A range of field or enum-value numbers (`reserved 5 to 9;`, `extensions 100 to max;`),
/// both ends inclusive. (Descriptor sets write a message's ranges with an exclusive end
/// and an enum's with an inclusive one; the JSON writer converts.)
public struct ProtoNumberRange: Sendable, Equatable {
    public var start: Int64
    public var end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    public func contains(_ number: Int64) -> Bool { start <= number && number <= end }
}
