// The host end of a sandbox's veth pair, made by us through rtnetlink after the clone (the peer
// goes straight into the child's new network namespace; the helper configures it inside).
#ifndef NSBOX_NETWORK_H
#define NSBOX_NETWORK_H

#include <sys/types.h>

#include <string>

namespace nsbox {

struct VethRequest {  // from the request (request.h)
  bool wanted = false;
  std::string host_name;  // this end, in our network namespace
  std::string peer_name;  // the end inside
  std::string host_address;
  int host_prefix = 0;
};

// Returns 0 or -errno with *syscall naming the failed request.
int CreateVeth(const VethRequest& veth, pid_t pid, const char** syscall);

}  // namespace nsbox

#endif
