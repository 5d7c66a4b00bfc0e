// The helper program, embedded in the addon, as an executable sealed memfd.
#ifndef NSBOX_HELPER_IMAGE_H
#define NSBOX_HELPER_IMAGE_H

namespace nsbox {

// Returns the memfd (created on first use, kept for the life of the process), or -1 with
// *err and *syscall set.
int HelperImageFd(int* err, const char** syscall);

}  // namespace nsbox

#endif
