#define _GNU_SOURCE
#include "tapline_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/in.h>

_Static_assert(EPOLLIN == TAPLINE_EPOLLIN && EPOLLOUT == TAPLINE_EPOLLOUT && EPOLLERR == TAPLINE_EPOLLERR
               && EPOLLHUP == TAPLINE_EPOLLHUP && EPOLLRDHUP == TAPLINE_EPOLLRDHUP, "epoll event bits");
_Static_assert(EPOLL_CTL_ADD == TAPLINE_EPOLL_CTL_ADD && EPOLL_CTL_DEL == TAPLINE_EPOLL_CTL_DEL
               && EPOLL_CTL_MOD == TAPLINE_EPOLL_CTL_MOD, "epoll_ctl ops");

int tapline_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int tapline_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t key) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = events;
    event.data.u64 = key;
    return epoll_ctl(epfd, op, fd, &event);
}

int tapline_epoll_wait(int epfd, void *events, int max_events, int timeout_ms) {
    return epoll_wait(epfd, (struct epoll_event *)events, max_events, timeout_ms);
}

void *tapline_epoll_events_allocate(int max_events) {
    return calloc((size_t)max_events, sizeof(struct epoll_event));
}

void tapline_epoll_events_free(void *events) { free(events); }

uint32_t tapline_epoll_event_bits(const void *events, int index) {
    return ((const struct epoll_event *)events)[index].events;
}

uint64_t tapline_epoll_event_key(const void *events, int index) {
    return ((const struct epoll_event *)events)[index].data.u64;
}

int tapline_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int tapline_accept(int fd, struct sockaddr *address, socklen_t *length) {
    return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void tapline_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
    pthread_setname_np(pthread_self(), truncated);
}

int tapline_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
}

int tapline_write_back_and_drop(int fd, int64_t offset, int64_t length) {
    unsigned int flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    if (sync_file_range(fd, offset, length, flags) != 0) return -1;
    int error = posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED);
    if (error != 0) { errno = error; return -1; }
    return 0;
}

int tapline_open_direct(const char *path, int flags, unsigned int mode) {
    return open(path, flags | O_DIRECT | O_CLOEXEC, (mode_t)mode);
}

/// <linux/netfilter_ipv4.h> SO_ORIGINAL_DST and <linux/netfilter_ipv6/ip6_tables.h>
/// IP6T_SO_ORIGINAL_DST: both 80, a kernel ABI constant.
enum { TAPLINE_SO_ORIGINAL_DST = 80 };

int tapline_original_destination(int fd, struct sockaddr_storage *address, socklen_t *length) {
    struct sockaddr_storage local;
    socklen_t local_length = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &local_length) != 0) return -1;
    memset(address, 0, sizeof *address);
    if (local.ss_family == AF_INET6) {
        *length = sizeof(struct sockaddr_in6);
        // An IPv4 connection on a dual-stack socket is NATed by the IPv4 table.
        if (getsockopt(fd, IPPROTO_IPV6, TAPLINE_SO_ORIGINAL_DST, address, length) == 0) return 0;
    }
    *length = sizeof(struct sockaddr_in);
    return getsockopt(fd, IPPROTO_IP, TAPLINE_SO_ORIGINAL_DST, address, length);
}

int tapline_enter_network_namespace(int fd) { return setns(fd, CLONE_NEWNET); }

int tapline_make_transparent(int fd, int ipv6) {
    int on = 1;
    return ipv6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &on, sizeof on)
                : setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &on, sizeof on);
}

int tapline_receive_destinations(int fd, int ipv6) {
    int on = 1;
    return ipv6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on)
                : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
}

long tapline_receive_datagram(int fd, void *buffer, unsigned long capacity, int flags,
                              struct sockaddr_storage *from, socklen_t *from_length,
                              struct sockaddr_storage *destination) {
    struct iovec vector = { .iov_base = buffer, .iov_len = capacity };
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(struct in6_pktinfo))]; } control;
    struct msghdr message = { .msg_name = from, .msg_namelen = *from_length, .msg_iov = &vector, .msg_iovlen = 1,
                              .msg_control = control.bytes, .msg_controllen = sizeof control.bytes };
    memset(destination, 0, sizeof *destination);
    ssize_t received = recvmsg(fd, &message, flags);
    if (received < 0) return -1;
    *from_length = message.msg_namelen;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            struct sockaddr_in *address = (struct sockaddr_in *)destination;
            address->sin_family = AF_INET;
            address->sin_addr = info.ipi_addr;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            struct sockaddr_in6 *address = (struct sockaddr_in6 *)destination;
            address->sin6_family = AF_INET6;
            address->sin6_addr = info.ipi6_addr;
        }
    }
    return (long)received;
}

/// Makes `message`'s only control message the `size` bytes at `data` (level, type),
/// in `control`, which must hold CMSG_SPACE(size).
static void set_control_message(struct msghdr *message, void *control, int level, int type, const void *data, size_t size) {
    message->msg_control = control;
    message->msg_controllen = CMSG_SPACE(size);
    struct cmsghdr *c = CMSG_FIRSTHDR(message);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(size);
    memcpy(CMSG_DATA(c), data, size);
}

long tapline_send_datagram(int fd, const void *buffer, unsigned long length, int flags,
                           const struct sockaddr_storage *to, socklen_t to_length,
                           const struct sockaddr_storage *source) {
    struct iovec vector = { .iov_base = (void *)buffer, .iov_len = length };
    union { struct cmsghdr align; char bytes[CMSG_SPACE(sizeof(struct in6_pktinfo))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = { .msg_name = (void *)to, .msg_namelen = to_length, .msg_iov = &vector, .msg_iovlen = 1 };
    if (source->ss_family == AF_INET) {
        struct in_pktinfo info = { .ipi_spec_dst = ((const struct sockaddr_in *)source)->sin_addr };
        set_control_message(&message, control.bytes, IPPROTO_IP, IP_PKTINFO, &info, sizeof info);
    } else if (source->ss_family == AF_INET6) {
        struct in6_pktinfo info = { .ipi6_addr = ((const struct sockaddr_in6 *)source)->sin6_addr };
        set_control_message(&message, control.bytes, IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof info);
    }
    return (long)sendmsg(fd, &message, flags);
}
