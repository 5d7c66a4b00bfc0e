#include "helper_image.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mutex>

#include "sys/syscalls.h"

// Provided by helper_blob.S (.incbin of the static helper built beside the addon).
extern "C" const unsigned char nsbox_helper_start[];
extern "C" const unsigned char nsbox_helper_end[];

namespace nsbox {
namespace {

struct Image {
  int fd = -1;
  int err = 0;
  const char* syscall = nullptr;
};

int Fail(Image* image, const char* syscall, int fd) {
  image->err = errno;
  image->syscall = syscall;
  if (fd >= 0) close(fd);
  return -1;
}

int CreateMemfd() {
  // MFD_EXEC keeps kernels >= 6.3 from warning; older kernels reject the flag.
  int fd = memfd_create("nsbox-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("nsbox-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  return fd;
}

// Sealed, so nothing in a sandbox can rewrite the binary the host executes (the runc
// /proc/self/exe attack, CVE-2019-5736), and no copy lands on disk.
int Create(Image* image) {
  int fd = CreateMemfd();
  if (fd < 0) return Fail(image, "memfd_create", -1);
  const unsigned char* at = nsbox_helper_start;
  while (at < nsbox_helper_end) {
    ssize_t n = write(fd, at, static_cast<size_t>(nsbox_helper_end - at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(image, "write", fd);
    at += n;
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
    return Fail(image, "fcntl", fd);
  }
  image->fd = fd;
  return fd;
}

}  // namespace

int HelperImageFd(int* err, const char** syscall) {
  static Image image;
  static std::once_flag once;
  std::call_once(once, [] { Create(&image); });
  if (image.fd < 0) {
    *err = image.err;
    *syscall = image.syscall;
  }
  return image.fd;
}

}  // namespace nsbox
