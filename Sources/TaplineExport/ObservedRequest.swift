/// One captured request as `EndpointNormalizer` sees it: where it went and
/// what kind of response came back. A value type.
public struct ObservedRequest: Sendable, Equatable {
    /// `scheme://host[:port]`.
    public var origin: String
    public var method: String
    /// Raw path segments (`RequestURL.segments`).
    public var segments: [String]
    /// nil when no response was captured (a failed flow): such a request is no
    /// evidence that values at a position are one variable.
    public var response: ResponseKind?

    public init(origin: String, method: String, segments: [String], response: ResponseKind?) {
        self.origin = origin
        self.method = method
        self.segments = segments
        self.response = response
    }
}
