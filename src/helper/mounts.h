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
/* What mounts_ensure returns when an optional source is missing: skip the steps that follow. */
#define MOUNTS_SKIP 1
/* A mount target made in the new root if it is missing, parents included, resolved as the command
 * will see it (symlinks inside the root, never out of it): a file for a file source, else a
 * directory. Never on the host: without a root, a missing target stays missing. */
int mounts_ensure(const struct step *step, struct failure *f);
/* A file with the given content (bwrap's --file / --ro-bind-data), made or replaced in the root. */
int mounts_write_file(const struct step *step, struct failure *f);
int mounts_chmod(const struct step *step, struct failure *f);
/* overlayfs at the target: the lower layers (host paths), and an upper layer given or, without
 * one, a private tmpfs under the overlay itself, whose changes vanish with the sandbox. */
int mounts_overlay(const struct step *step, struct failure *f);
/* OCI maskedPaths (a = 0): a file gets /dev/null bound over it, a directory an empty read-only
 * tmpfs; readonlyPaths (a = 1): bound onto itself, read-only. A path this kernel lacks is skipped. */
int mounts_mask(const struct step *step, struct failure *f);
int mounts_pivot_root(struct failure *f);

#endif
