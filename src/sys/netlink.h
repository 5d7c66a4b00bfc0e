/* Just enough rtnetlink to make a veth pair and give an interface an address and the up flag.
 * Header-only, shared by the addon (host end) and the helper (inside end); each links its own
 * socket/sendto/recv and memcpy (glibc's, or the helper's runtime). */
#ifndef NSBOX_SYS_NETLINK_H
#define NSBOX_SYS_NETLINK_H

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nl_msg {
  union {
    struct nlmsghdr hdr;
    char bytes[1024];
  } u;
};

static inline void *nl_tail(struct nl_msg *m) { return m->u.bytes + NLMSG_ALIGN(m->u.hdr.nlmsg_len); }

static inline void nl_begin(struct nl_msg *m, uint16_t type, uint16_t flags, const void *body, uint32_t len) {
  memset(m, 0, sizeof *m);
  m->u.hdr.nlmsg_type = type;
  m->u.hdr.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
  m->u.hdr.nlmsg_seq = 1;
  m->u.hdr.nlmsg_len = NLMSG_LENGTH(len);
  memcpy(NLMSG_DATA(&m->u.hdr), body, len);
}

static inline struct rtattr *nl_attr(struct nl_msg *m, uint16_t type, const void *data, uint32_t len) {
  struct rtattr *a = (struct rtattr *)nl_tail(m);
  a->rta_type = type;
  a->rta_len = (uint16_t)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  m->u.hdr.nlmsg_len = NLMSG_ALIGN(m->u.hdr.nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static inline void nl_nest_end(struct nl_msg *m, struct rtattr *nest) {
  nest->rta_len = (uint16_t)((char *)nl_tail(m) - (char *)nest);
}

/* Sends one request and reads its ack: 0, or -errno. */
static inline int nl_transact(int fd, struct nl_msg *m) {
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, m, m->u.hdr.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -errno;
  char reply[512];
  ssize_t n = recv(fd, reply, sizeof reply, 0);
  if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) return n < 0 ? -errno : -EIO;
  struct nlmsghdr *h = (struct nlmsghdr *)reply;
  if (h->nlmsg_type != NLMSG_ERROR) return -EIO;
  return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

static inline int nl_open(void) { return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); }

/* Sets IFF_UP on an interface. */
static inline int nl_link_up(int fd, int ifindex) {
  struct ifinfomsg info;
  memset(&info, 0, sizeof info);
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = ifindex;
  info.ifi_flags = IFF_UP;
  info.ifi_change = IFF_UP;
  struct nl_msg m;
  nl_begin(&m, RTM_NEWLINK, 0, &info, sizeof info);
  return nl_transact(fd, &m);
}

/* Adds an IPv4 address (network byte order) with its prefix length. */
static inline int nl_addr_add(int fd, int ifindex, uint32_t addr, uint8_t prefix) {
  struct ifaddrmsg info;
  memset(&info, 0, sizeof info);
  info.ifa_family = AF_INET;
  info.ifa_prefixlen = prefix;
  info.ifa_index = (uint32_t)ifindex;
  struct nl_msg m;
  nl_begin(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &info, sizeof info);
  nl_attr(&m, IFA_LOCAL, &addr, sizeof addr);
  nl_attr(&m, IFA_ADDRESS, &addr, sizeof addr);
  return nl_transact(fd, &m);
}

/* Creates a veth pair: `name` here, `peer` created directly in the network namespace of `pid`. */
static inline int nl_veth_create(int fd, const char *name, const char *peer, int32_t pid) {
  struct ifinfomsg info;
  memset(&info, 0, sizeof info);
  info.ifi_family = AF_UNSPEC;
  struct nl_msg m;
  nl_begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &info, sizeof info);
  nl_attr(&m, IFLA_IFNAME, name, (uint32_t)strlen(name) + 1);
  struct rtattr *linkinfo = nl_attr(&m, IFLA_LINKINFO, NULL, 0);
  nl_attr(&m, IFLA_INFO_KIND, "veth", 5);
  struct rtattr *data = nl_attr(&m, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer_info = nl_attr(&m, VETH_INFO_PEER, &info, sizeof info);
  nl_attr(&m, IFLA_IFNAME, peer, (uint32_t)strlen(peer) + 1);
  nl_attr(&m, IFLA_NET_NS_PID, &pid, sizeof pid);
  nl_nest_end(&m, peer_info);
  nl_nest_end(&m, data);
  nl_nest_end(&m, linkinfo);
  return nl_transact(fd, &m);
}

#endif
