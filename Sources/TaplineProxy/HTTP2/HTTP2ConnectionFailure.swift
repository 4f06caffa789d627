/// Why Tapline ended an HTTP/2 client connection itself (a protocol error the
/// peer made), reported in the connection's `connectionClosed` event.
struct HTTP2ConnectionFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
