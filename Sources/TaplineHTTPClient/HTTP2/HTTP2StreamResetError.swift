import TaplineHTTP2

/// An HTTP/2 stream carrying a byte stream (`HTTP2TunnelStream`) was reset, or closed
/// with an error code: what its `didCloseWith` reports.
public struct HTTP2StreamResetError: Error, CustomStringConvertible {
    public let code: HTTP2ErrorCode

    public init(code: HTTP2ErrorCode) {
        self.code = code
    }

    public var description: String { "its HTTP/2 stream was reset with \(code)" }
}
