import TaplineExport
import TaplineWire

/// One difference between two JSON documents, at `pointer`: a value that changed,
/// or a member/element present on one side only (extra array elements are
/// reported at their index). A value type.
public struct JSONChange: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Both sides have a value here and they differ (by value: numbers numerically, strings by code point).
        case changed
        /// Only B has it.
        case added
        /// Only A has it.
        case removed
    }

    public var pointer: JSONPointer
    public var kind: Kind
    /// A's value (nil when `added`).
    public var a: JSONValue?
    /// B's value (nil when `removed`).
    public var b: JSONValue?

    public init(pointer: JSONPointer, kind: Kind, a: JSONValue?, b: JSONValue?) {
        self.pointer = pointer
        self.kind = kind
        self.a = a
        self.b = b
    }
}
