#include "network.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../sys/netlink.h"

int network_loopback_up(struct failure *f) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(f, "socket");
  struct ifreq req;
  memset(&req, 0, sizeof req);
  strncpy(req.ifr_name, "lo", sizeof req.ifr_name - 1);
  int rc = ioctl(fd, SIOCGIFFLAGS, &req) < 0 ? fail(f, "ioctl") : 0;
  if (rc == 0) {
    req.ifr_flags |= IFF_UP;
    rc = ioctl(fd, SIOCSIFFLAGS, &req) < 0 ? fail(f, "ioctl") : 0;
  }
  close(fd);
  return rc;
}

/* "a.b.c.d" in network byte order; -1 if it is not one. */
static int parse_ipv4(const char *text, uint32_t *out) {
  uint8_t bytes[4];
  for (int i = 0; i < 4; i++) {
    unsigned v = 0;
    int digits = 0;
    while (*text >= '0' && *text <= '9' && digits < 3) v = v * 10 + (unsigned)(*text++ - '0'), digits++;
    if (!digits || v > 255 || *text != (i < 3 ? '.' : '\0')) return -1;
    bytes[i] = (uint8_t)v;
    text++;
  }
  memcpy(out, bytes, 4);
  return 0;
}

int network_iface_up(const struct step *step, struct failure *f) {
  uint32_t address;
  if (parse_ipv4(step->str[1], &address) < 0) {
    errno = EINVAL;
    return fail(f, "inet_pton");
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(f, "socket");
  struct ifreq req;
  memset(&req, 0, sizeof req);
  strncpy(req.ifr_name, step->str[0], sizeof req.ifr_name - 1);
  int rc = ioctl(fd, SIOCGIFINDEX, &req) < 0 ? fail(f, "ioctl") : 0;
  close(fd);
  if (rc < 0) return rc;
  int nl = nl_open();
  if (nl < 0) return fail(f, "socket");
  int err = nl_addr_add(nl, req.ifr_ifindex, address, (uint8_t)step->a);
  if (err == 0) err = nl_link_up(nl, req.ifr_ifindex);
  close(nl);
  if (err < 0) {
    errno = -err;
    return fail(f, "netlink");
  }
  return 0;
}
