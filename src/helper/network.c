#include "network.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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
