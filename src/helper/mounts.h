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
int mounts_pivot_root(struct failure *f);

#endif
