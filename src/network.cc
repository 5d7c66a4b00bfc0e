#include "network.h"

#include <arpa/inet.h>
#include <net/if.h>

#include "sys/netlink.h"

namespace nsbox {

int CreateVeth(const VethRequest& veth, pid_t pid, const char** syscall) {
  struct in_addr address;
  if (inet_pton(AF_INET, veth.host_address.c_str(), &address) != 1) return *syscall = "inet_pton", -EINVAL;
  int fd = nl_open();
  if (fd < 0) return *syscall = "socket", -errno;
  int rc = nl_veth_create(fd, veth.host_name.c_str(), veth.peer_name.c_str(), pid);
  *syscall = "RTM_NEWLINK veth";
  unsigned index = rc == 0 ? if_nametoindex(veth.host_name.c_str()) : 0;
  if (rc == 0 && index == 0) rc = -errno, *syscall = "if_nametoindex";
  if (rc == 0) rc = nl_addr_add(fd, static_cast<int>(index), address.s_addr, static_cast<uint8_t>(veth.host_prefix)), *syscall = "RTM_NEWADDR";
  if (rc == 0) rc = nl_link_up(fd, static_cast<int>(index)), *syscall = "RTM_NEWLINK up";
  close(fd);
  return rc;
}

}  // namespace nsbox
