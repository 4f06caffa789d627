import Synchronization
import TaplineNet

/// The addresses Tapline's listeners are bound to, filled in by `ProxyServer.start`
/// once every listener is bound and read by the transparent listener's accepts on
/// any loop (to refuse a connection that would loop back into Tapline).
///
/// Thread-safe: a mutex guards the list.
final class BoundListenerAddresses: Sendable {
    private let addresses = Mutex<[SocketAddress]>([])

    var all: [SocketAddress] {
        get { addresses.withLock { $0 } }
        set { addresses.withLock { $0 = newValue } }
    }
}
