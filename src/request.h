// The spawn request lib/request.ts encodes (layout in sys/wire.h), decoded and bounds-checked.
// The addon carries it out and decides nothing it does not say.
#ifndef NSBOX_REQUEST_H
#define NSBOX_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "sys/wire.h"

namespace nsbox {

struct Join {
  int fd;
  int nstype;
};

struct SpawnRequest {
  uint32_t options;  // NSBOX_SPAWN_*
  int clone_flags;
  int unshare_flags;
  uint32_t nstdio;
  const uint8_t* stdio;  // nstdio int32 entries, read through StdioAt (unaligned)
  uint32_t njoins;
  const uint8_t* joins;  // njoins { int32 fd, uint32 nstype }
  uint32_t ncgroups;
  const uint8_t* cgroups;  // ncgroups int32 fds of cgroup.procs files
  const char* uid_map;
  const char* gid_map;
  const char* veth_host_name;
  const char* veth_peer_name;
  const char* veth_host_address;
  int veth_prefix;
  const uint8_t* plan;  // the helper's part, as it reads it
  size_t plan_size;
  uint32_t plan_options;  // NSBOX_PLAN_* from the plan's header

  int StdioAt(uint32_t i) const;
  Join JoinAt(uint32_t i) const;
  int CgroupAt(uint32_t i) const;
};

// Fills *out from `size` bytes at `data` (pointers into it); false if malformed.
bool DecodeRequest(const uint8_t* data, size_t size, SpawnRequest* out);

}  // namespace nsbox

#endif
