extension HTTPHeaders {
    /// The `:status` pseudo-header of an HTTP/2 response block, as a number; nil when
    /// there is none or it is not three digits (nghttp2 rejects such blocks before
    /// they get here). Read from the bytes: no `String` for the most read field of
    /// every response.
    public var http2Status: Int? {
        withUnsafeFieldBytes { fields in
            for index in 0..<fields.count where fields.nameIs(index, ":status") {
                let value = fields.value(index)
                guard value.count == 3 else { return nil }
                var status = 0
                for byte in value {
                    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                    status = status * 10 + Int(byte - UInt8(ascii: "0"))
                }
                return status
            }
            return nil
        }
    }
}
