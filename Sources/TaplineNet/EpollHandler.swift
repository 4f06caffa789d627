/// Something registered with an `EventLoop`'s epoll instance: a listener or a
/// connection. The loop retains registered handlers (in its fd-indexed table)
/// until they unregister; events are delivered on the loop thread only.
protocol EpollHandler: AnyObject {
    /// Readiness bits (`EPOLLIN`, `EPOLLOUT`, `EPOLLRDHUP`, `EPOLLERR`, `EPOLLHUP`) for this handler's fd.
    func handleEvents(_ events: UInt32)
    /// The loop is stopping: close the fd and report (as far as applicable).
    func loopIsStopping()
}
