#include "request.h"

#include <string.h>

namespace nsbox {
namespace {

// A cursor over the request that never reads past its end.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const uint8_t* Take(size_t n) {
    if (size_ - at_ < n) return nullptr;
    const uint8_t* p = data_ + at_;
    at_ += n;
    return p;
  }
  // A string as steps encode them: u32 length, the bytes, a NUL.
  const char* String() {
    const uint8_t* raw = Take(4);
    if (!raw) return nullptr;
    uint32_t len;
    memcpy(&len, raw, 4);
    const uint8_t* s = Take(static_cast<size_t>(len) + 1);
    if (!s || s[len] != 0 || memchr(s, 0, len)) return nullptr;
    return reinterpret_cast<const char*>(s);
  }
  size_t at() const { return at_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace

int SpawnRequest::StdioAt(uint32_t i) const {
  int32_t v;
  memcpy(&v, stdio + 4 * i, 4);
  return v;
}

int SpawnRequest::CgroupAt(uint32_t i) const {
  int32_t v;
  memcpy(&v, cgroups + 4 * i, 4);
  return v;
}

Join SpawnRequest::JoinAt(uint32_t i) const {
  int32_t fd;
  uint32_t nstype;
  memcpy(&fd, joins + 8 * i, 4);
  memcpy(&nstype, joins + 8 * i + 4, 4);
  return {fd, static_cast<int>(nstype)};
}

bool DecodeRequest(const uint8_t* data, size_t size, SpawnRequest* out) {
  Reader r(data, size);
  nsbox_spawn_header h;
  const uint8_t* raw = r.Take(sizeof h);
  if (!raw) return false;
  memcpy(&h, raw, sizeof h);
  if (h.magic != NSBOX_SPAWN_MAGIC || h.version != NSBOX_SPAWN_VERSION || h.size > size) return false;
  out->options = h.options;
  out->clone_flags = static_cast<int>(h.clone_flags);
  out->unshare_flags = static_cast<int>(h.unshare_flags);
  out->nstdio = h.nstdio;
  out->njoins = h.njoins;
  out->veth_prefix = static_cast<int>(h.veth_prefix);
  out->ncgroups = h.ncgroups;
  if (h.nstdio > size / 4 || h.njoins > size / 8 || h.ncgroups > size / 4) return false;
  out->stdio = r.Take(4 * static_cast<size_t>(h.nstdio));
  out->joins = r.Take(8 * static_cast<size_t>(h.njoins));
  out->cgroups = r.Take(4 * static_cast<size_t>(h.ncgroups));
  if (!out->stdio || !out->joins || !out->cgroups) return false;
  const char** strings[NSBOX_SPAWN_STRINGS] = {&out->uid_map, &out->gid_map, &out->veth_host_name,
                                               &out->veth_peer_name, &out->veth_host_address};
  for (const char** s : strings) {
    if (!(*s = r.String())) return false;
  }
  if (r.at() != h.size) return false;
  out->plan = data + h.size;
  out->plan_size = size - h.size;
  nsbox_plan_header plan;
  if (out->plan_size < sizeof plan) return false;
  memcpy(&plan, out->plan, sizeof plan);
  if (plan.magic != NSBOX_PLAN_MAGIC || plan.version != NSBOX_PLAN_VERSION) return false;
  out->plan_options = plan.options;
  return true;
}

}  // namespace nsbox
