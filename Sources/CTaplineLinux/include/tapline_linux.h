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
