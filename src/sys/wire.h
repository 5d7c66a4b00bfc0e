/* The two little protocols between the addon (parent) and the helper (inside the namespaces).
 *
 * Plan (parent -> helper, over a pipe read to EOF): a header, then steps. Each step is
 * a fixed header followed by `nstr` strings, each a u32 length, the bytes and a NUL, so
 * the helper can use them in place. lib/plan.ts writes exactly this layout.
 *
 * Report (helper -> parent, over a pipe): fixed 32-byte records, smaller than PIPE_BUF,
 * so every write is atomic and the parent never sees half a record.
 */
#ifndef NSBOX_SYS_WIRE_H
#define NSBOX_SYS_WIRE_H

#include <stdint.h>

#define NSBOX_PLAN_MAGIC 0x6e73626fu /* "nsbo" */
#define NSBOX_PLAN_VERSION 1u

/* Plan header option bits. */
#define NSBOX_PLAN_INIT 0x1u            /* stay as PID 1 and fork the command */
#define NSBOX_PLAN_SETSID 0x2u          /* the command gets its own session */
#define NSBOX_PLAN_DIE_WITH_PARENT 0x4u /* PDEATHSIG plus a pidfd watch of the parent */
#define NSBOX_PLAN_BECOME_ROOT 0x8u     /* maps were written by the parent: setresuid(0) first */
#define NSBOX_PLAN_FOREGROUND 0x10u     /* take the terminal on fd 0 as foreground process group */
#define NSBOX_PLAN_INHERIT_ENV 0x20u    /* the command gets the helper's own environment (Node's) */
#define NSBOX_PLAN_TRACE 0x40u          /* report how long each step took (bench/ profiles with it) */
#define NSBOX_PLAN_NO_NEW_PRIVS 0x80u   /* PR_SET_NO_NEW_PRIVS for the command */

struct nsbox_plan_header {
  uint32_t magic;
  uint32_t version;
  uint32_t options;
  uint32_t nsteps;
};

enum nsbox_op {
  NSBOX_OP_MOUNT = 1,       /* source, target, fstype, data; flags = MS_*; b = NSBOX_IN_ROOT */
  NSBOX_OP_OPEN_ROOT = 2,   /* path: later NSBOX_IN_ROOT paths resolve beneath it */
  NSBOX_OP_MKDIR = 3,       /* path; a = mode; b = NSBOX_IN_ROOT */
  NSBOX_OP_SYMLINK = 5,     /* target, linkpath; b = NSBOX_IN_ROOT */
  NSBOX_OP_PIVOT_ROOT = 6,  /* no strings: pivots into the opened root */
  NSBOX_OP_SETHOSTNAME = 7, /* name */
  NSBOX_OP_CHDIR = 8,       /* path */
  NSBOX_OP_EXEC = 9,        /* file, argv[a]..., env... (none with INHERIT_ENV); always last */
  NSBOX_OP_DEVICE = 10,     /* path, host device to bind; flags = dev_t: mknod, or a bind if EPERM */
  NSBOX_OP_LOOPBACK_UP = 11, /* no strings: bring up "lo" in the new network namespace */
  NSBOX_OP_SETDOMAINNAME = 12, /* name */
  NSBOX_OP_TIME_NS = 13,    /* offsets, as /proc/self/timens_offsets reads them: unshare(CLONE_NEWTIME) */
  NSBOX_OP_JOIN_NS = 14,    /* path of a namespace file; a = nstype: setns, in the helper itself */
  NSBOX_OP_IFACE_UP = 15,   /* ifname, IPv4 address (dotted); a = prefix length: address it, bring it up */
  NSBOX_OP_SETPRIORITY = 16, /* no strings; a = niceness (int32): for the helper and all it starts */
};

#define NSBOX_IN_ROOT 0x1u

struct nsbox_step_header {
  uint32_t op;
  uint32_t nstr;
  uint32_t a;
  uint32_t b;
  uint64_t flags;
};

enum nsbox_report_type {
  NSBOX_REPORT_ERROR = 1,   /* step failed: step, err, syscall */
  NSBOX_REPORT_SPAWNED = 2, /* the command runs: value = its pid inside */
  NSBOX_REPORT_EXIT = 3,    /* the command ended: value = wait status */
  NSBOX_REPORT_TRACE = 4,   /* with NSBOX_PLAN_TRACE: step took `value` microseconds */
};

/* An ERROR report with step -1 from before the helper ran (written by the addon's clone child)
 * says in `value` which part of the start failed. */
enum nsbox_start_stage {
  NSBOX_START_FDS = 1,       /* placing the stdio and control fds */
  NSBOX_START_SETGROUPS = 2, /* writing /proc/self/setgroups */
  NSBOX_START_UID_MAP = 3,   /* writing the uid map */
  NSBOX_START_GID_MAP = 4,   /* writing the gid map */
  NSBOX_START_CAPS = 5,      /* raising ambient capabilities */
  NSBOX_START_EXEC = 6,      /* executing the helper */
  NSBOX_START_JOIN = 7,      /* joining existing namespaces (setns) */
  NSBOX_START_UNSHARE = 8,   /* creating the namespaces other than user and pid */
};

struct nsbox_report {
  int32_t type;
  int32_t step; /* index into the plan's steps, -1 for the helper's own work */
  int32_t err;
  int32_t value;
  char syscall[16];
};

/* Fixed fd layout in the helper, after the n stdio fds of the command:
 * n + 0 plan (read end), n + 1 report (write end), n + 2 pidfd of the parent (or -1 slot). */
#define NSBOX_FD_PLAN 0
#define NSBOX_FD_REPORT 1
#define NSBOX_FD_PARENT 2
#define NSBOX_CONTROL_FDS 3

#endif
