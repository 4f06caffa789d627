#ifndef TAPLINE_LINUX_H
#define TAPLINE_LINUX_H
// Linux system calls that Swift's Glibc module does not import (<sys/epoll.h>,
// <sys/eventfd.h>, accept4, sync_file_range, O_DIRECT), as small real functions with a fixed ABI, so the
// Swift side never has to know the layout of struct epoll_event (packed on x86_64).
#include <stdint.h>
#include <sys/socket.h>

int tapline_epoll_create(void);
/// epoll_ctl with data.u64 = key.
int tapline_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t key);
/// epoll_wait into a buffer allocated by tapline_epoll_events_allocate.
int tapline_epoll_wait(int epfd, void *events, int max_events, int timeout_ms);
void *tapline_epoll_events_allocate(int max_events);
void tapline_epoll_events_free(void *events);
/// Event `index` of an epoll_wait result: its event bits and key.
uint32_t tapline_epoll_event_bits(const void *events, int index);
uint64_t tapline_epoll_event_key(const void *events, int index);
int tapline_eventfd(void);
/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int tapline_accept(int fd, struct sockaddr *address, socklen_t *length);
void tapline_set_thread_name(const char *name);
/// Starts writeback of bytes [offset, offset + length) of a file (sync_file_range
/// SYNC_FILE_RANGE_WRITE); does not wait. 0 or -1 with errno.
int tapline_start_writeback(int fd, int64_t offset, int64_t length);
/// Waits until bytes [offset, offset + length) are on disk, then drops them from
/// the page cache (sync_file_range with both waits, posix_fadvise DONTNEED).
/// 0 or -1 with errno.
int tapline_write_back_and_drop(int fd, int64_t offset, int64_t length);
/// open(path, flags | O_DIRECT | O_CLOEXEC, mode): writes go from the caller's
/// (aligned) memory to the disk without the page cache. -1 with errno (EINVAL: the
/// file system does not do direct I/O).
int tapline_open_direct(const char *path, int flags, unsigned int mode);
/// The destination a connection had before the kernel's NAT (nftables/iptables
/// `redirect`/`dnat`) sent it to us: getsockopt SO_ORIGINAL_DST (IPv4) or
/// IP6T_SO_ORIGINAL_DST (IPv6, same option number at level IPPROTO_IPV6), which
/// Glibc's headers do not declare. Fills `address` (length in `*length`);
/// 0 or -1 with errno (ENOENT: the connection was not NATed).
int tapline_original_destination(int fd, struct sockaddr_storage *address, socklen_t *length);
/// Makes the not yet bound socket `fd` a TPROXY socket: IP_TRANSPARENT (IPv4) or
/// IPV6_TRANSPARENT (`ipv6` nonzero), so it may take connections and datagrams the
/// kernel's `tproxy` sent it for any destination, and send from such an address.
/// Needs CAP_NET_ADMIN. 0 or -1 with errno.
int tapline_make_transparent(int fd, int ipv6);
/// Asks for each datagram's destination address with it (IP_PKTINFO, or
/// IPV6_RECVPKTINFO when `ipv6` is nonzero). 0 or -1 with errno.
int tapline_receive_destinations(int fd, int ipv6);
/// recvfrom, also filling `destination` with the address the datagram was sent to
/// (port 0; family AF_UNSPEC when the socket does not report it:
/// `tapline_receive_destinations`). Bytes received, or -1 with errno.
long tapline_receive_datagram(int fd, void *buffer, unsigned long capacity, int flags,
                              struct sockaddr_storage *from, socklen_t *from_length,
                              struct sockaddr_storage *destination);
/// sendto, from the address `source` (its port ignored: the socket's own) when its
/// family is AF_INET or AF_INET6 (IP_PKTINFO / IPV6_PKTINFO): a reply comes from the
/// address the query was sent to. A non-local source needs a transparent socket.
/// Bytes sent, or -1 with errno.
long tapline_send_datagram(int fd, const void *buffer, unsigned long length, int flags,
                           const struct sockaddr_storage *to, socklen_t to_length,
                           const struct sockaddr_storage *source);
/// Moves the calling thread into the network namespace whose file (/run/netns/NAME,
/// /proc/PID/ns/net) is open as `fd`: setns(fd, CLONE_NEWNET). 0 or -1 with errno.
int tapline_enter_network_namespace(int fd);

enum {
    TAPLINE_EPOLLIN = 0x001,
    TAPLINE_EPOLLOUT = 0x004,
    TAPLINE_EPOLLERR = 0x008,
    TAPLINE_EPOLLHUP = 0x010,
    TAPLINE_EPOLLRDHUP = 0x2000,
    TAPLINE_EPOLL_CTL_ADD = 1,
    TAPLINE_EPOLL_CTL_DEL = 2,
    TAPLINE_EPOLL_CTL_MOD = 3,
};

#endif
