/* The filesystem steps: mounts and mountpoints, resolved beneath the new root, and pivot_root. */
#ifndef NSBOX_HELPER_MOUNTS_H
#define NSBOX_HELPER_MOUNTS_H

#include "failure.h"
#include "plan.h"

int mounts_open_root(const struct step *step, struct failure *f);
int mounts_mount(const struct step *step, struct failure *f);
int mounts_mkdir(const struct step *step, struct failure *f);
int mounts_symlink(const struct step *step, struct failure *f);
int mounts_device(const struct step *step, struct failure *f);
int mounts_readonly(const struct step *step, struct failure *f);
/* OCI maskedPaths (a = 0): a file gets /dev/null bound over it, a directory an empty read-only
 * tmpfs; readonlyPaths (a = 1): bound onto itself, read-only. A path this kernel lacks is skipped. */
int mounts_mask(const struct step *step, struct failure *f);
int mounts_pivot_root(struct failure *f);

#endif
