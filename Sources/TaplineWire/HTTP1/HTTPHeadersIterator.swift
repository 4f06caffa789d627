extension HTTPHeaders {
    /// Iterates the fields in wire order, making a `String` pair for each (for code
    /// that inspects fields; forwarding and capture use `withUnsafeFieldBytes`).
    public struct Iterator: IteratorProtocol {
        private let headers: HTTPHeaders
        private var index = 0

        init(_ headers: HTTPHeaders) {
            self.headers = headers
        }

        public mutating func next() -> Field? {
            guard index < headers.count else { return nil }
            defer { index += 1 }
            return headers.withUnsafeFieldBytes { fields in
                (HTTPHeaders.string(fields.name(index)), HTTPHeaders.string(fields.value(index)))
            }
        }
    }
}
