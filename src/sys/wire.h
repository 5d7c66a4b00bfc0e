/* The little protocols between lib/ (TypeScript), the addon (parent) and the helper (inside the
 * namespaces). lib/request.ts writes exactly these layouts; test/05.wire.test.ts checks that its
 * constants are the ones below.
 *
 * Request (lib/ -> addon, one buffer per spawn): the spawn section (what the addon does: clone
 * flags, stdio, joins, maps, veth), then the plan. The addon decides nothing the request does not
 * say.
 *
 * Plan (addon -> helper, read to its end: through a pipe up to a page, which cannot fill, else in
 * a memfd read from offset 0, so no size limit but the kernel's own and no write that could
 * block): a header, then steps. Each step is a fixed header
 * followed by `nstr` strings, each a u32 length, the bytes and a NUL, so the helper can use them
 * in place.
 *
 * Report (helper -> parent, over a pipe): fixed 32-byte records, smaller than PIPE_BUF,
 * so every write is atomic and the parent never sees half a record.
 */
#ifndef NSBOX_SYS_WIRE_H
#define NSBOX_SYS_WIRE_H

#include <stdint.h>

#define NSBOX_PLAN_MAGIC 0x6e73626fu /* "nsbo" */
#define NSBOX_PLAN_VERSION 2u

/* Plan header option bits. */
#define NSBOX_PLAN_INIT 0x1u            /* stay as PID 1 and fork the command */
#define NSBOX_PLAN_SETSID 0x2u          /* the command gets its own session */
#define NSBOX_PLAN_DIE_WITH_PARENT 0x4u /* PDEATHSIG plus a pidfd watch of the parent */
#define NSBOX_PLAN_BECOME_ROOT 0x8u     /* maps were written by the parent: setresuid(0) first */
#define NSBOX_PLAN_FOREGROUND 0x10u     /* take the terminal on fd 0 as foreground process group */
#define NSBOX_PLAN_INHERIT_ENV 0x20u    /* the command gets the helper's own environment (Node's) */
#define NSBOX_PLAN_TRACE 0x40u          /* report how long each step took (bench/ profiles with it) */
#define NSBOX_PLAN_NO_NEW_PRIVS 0x80u   /* PR_SET_NO_NEW_PRIVS for the command */
#define NSBOX_PLAN_WAIT_PARENT 0x100u   /* read the sync fd to EOF first: the parent writes maps or a veth */
#define NSBOX_PLAN_SUBREAPER 0x200u     /* no PID namespace: adopt orphans and end them with the command */

#define NSBOX_SPAWN_MAGIC 0x6e737370u /* "nssp" */
#define NSBOX_SPAWN_VERSION 1u

/* Spawn section option bits. */
#define NSBOX_SPAWN_DIE_WITH_PARENT 0x1u /* the helper gets the read end of the parent-death pipe */
#define NSBOX_SPAWN_INHERIT_ENV 0x2u     /* the helper is exec'd with Node's environment */
#define NSBOX_SPAWN_MAPS_BY_CHILD 0x4u   /* the clone child writes setgroups, uid_map, gid_map itself */
#define NSBOX_SPAWN_MAPS_BY_PARENT 0x8u  /* the addon writes the maps; the child raises ambient caps */
#define NSBOX_SPAWN_JOIN_AS_ROOT 0x10u   /* after the joins, become uid/gid 0 of the joined user namespace */
#define NSBOX_SPAWN_VETH 0x20u           /* the addon makes a veth pair and moves one end inside */
#define NSBOX_SPAWN_KEEP_CAPS 0x40u      /* MAPS_BY_CHILD mapping no root: raise ambient caps so the helper keeps them */

/* Followed by: int32 stdio[nstdio] (-1 a new pipe, -2 /dev/null, else an fd of ours), then
 * njoins pairs { int32 fd; uint32 nstype }, then int32 cgroups[ncgroups] (fds of cgroup.procs
 * files the clone child writes "0" to, first thing), then 5 strings (as in steps): uid map, gid
 * map, veth host name, veth peer name, veth host address. `size` covers all of it; the plan follows. */
struct nsbox_spawn_header {
  uint32_t magic;
  uint32_t version;
  uint32_t size;
  uint32_t options;
  uint32_t clone_flags;   /* namespaces clone() makes (user, pid, ... as lib/ decides) */
  uint32_t unshare_flags; /* namespaces the clone child makes with unshare(), after the joins */
  uint32_t nstdio;
  uint32_t njoins;
  uint32_t veth_prefix;
  uint32_t ncgroups;
};

#define NSBOX_SPAWN_STRINGS 5

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
  NSBOX_OP_READONLY = 17,   /* path; b = NSBOX_IN_ROOT: the mount there and all below it read-only */
  NSBOX_OP_CAPS = 18,       /* no strings; flags = capabilities kept (bit n); a = 1: also ambient. For the command */
  NSBOX_OP_SECCOMP = 19,    /* one string: the BPF program (may hold NULs); a = its length in bytes. For the command */
  NSBOX_OP_MASK = 20,       /* path; b = NSBOX_IN_ROOT; a = 0: masked (empty, read-only), 1: read-only. Missing: skipped */
  NSBOX_OP_KEYRING = 21,    /* no strings: a session keyring of its own for the init and the command */
  NSBOX_OP_RLIMIT = 22,     /* soft, hard (decimal or "unlimited"); a = the resource. For the command */
  NSBOX_OP_ENSURE = 23,     /* target, source ("" or a host path); a = mode of created dirs; b = NSBOX_IN_ROOT |
                               NSBOX_OPTIONAL; flags = steps to skip when an optional source is missing.
                               Creates the target in the new root (a file for a file source), parents included */
  NSBOX_OP_WRITE_FILE = 24, /* target, content (may hold NULs); a = mode; flags = content length; b = NSBOX_IN_ROOT */
  NSBOX_OP_CHMOD = 25,      /* path; a = mode; b = NSBOX_IN_ROOT */
  NSBOX_OP_OVERLAY = 27,    /* target, lowerdirs (":"-joined, escaped), upper, work ("" for a private tmpfs); b = NSBOX_IN_ROOT */
  NSBOX_OP_IDENTITY = 26,   /* groups ("1,2,3"); a = uid, flags = gid; b = 1: set the groups. For the command */
};

#define NSBOX_IN_ROOT 0x1u
#define NSBOX_OPTIONAL 0x2u
#define NSBOX_CREATE 0x4u /* ENSURE may create what is missing (a rootfs directory, not the host's /) */

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
  NSBOX_REPORT_USAGE = 5,   /* before EXIT: the command's tree, reaped: step = user ms, err = system ms, value = max RSS KiB */
};

/* A failure that is not a plan step's says which stage of the start it was: in an ERROR report
 * with step -1 (from the clone child or the helper), `value`; from the addon, the failure's
 * `stage`. lib/failure.ts words each one from the request. */
enum nsbox_start_stage {
  NSBOX_START_FDS = 1,        /* placing the stdio and control fds */
  NSBOX_START_SETGROUPS = 2,  /* writing /proc/self/setgroups */
  NSBOX_START_UID_MAP = 3,    /* writing the uid map */
  NSBOX_START_GID_MAP = 4,    /* writing the gid map */
  NSBOX_START_CAPS = 5,       /* raising ambient capabilities */
  NSBOX_START_EXEC = 6,       /* executing the helper */
  NSBOX_START_JOIN = 7,       /* joining existing namespaces (setns) */
  NSBOX_START_UNSHARE = 8,    /* creating the namespaces clone() does not */
  NSBOX_START_REQUEST = 9,    /* the addon decoding the request (a bug in lib/) */
  NSBOX_START_PIPES = 10,     /* the addon opening stdio pipes, /dev/null, the plan memfd */
  NSBOX_START_IMAGE = 11,     /* the addon loading the helper into its memfd */
  NSBOX_START_CLONE = 12,     /* clone() creating the namespaces it makes */
  NSBOX_START_VETH = 13,      /* the addon creating the veth pair */
  NSBOX_START_HELPER = 14,    /* the helper's own start: reading the plan, credentials, prctl */
  NSBOX_START_JOIN_ROOT = 15, /* becoming root of the joined user namespace */
  NSBOX_START_COMMAND = 16,   /* the init starting the command (clone, terminal) */
  NSBOX_START_CGROUP = 17,    /* the clone child entering the sandbox's cgroups */
};

struct nsbox_report {
  int32_t type;
  int32_t step; /* index into the plan's steps, -1 for the helper's own work */
  int32_t err;
  int32_t value;
  char syscall[16];
};

/* Fixed fd layout in the helper, after the n stdio fds of the command: n + 0 the plan (a pipe or memfd),
 * n + 1 report (write end), n + 2 the read end of the parent-death pipe, whose only write end
 * Node holds (it carries no authority, unlike a pidfd of Node: a command that takes it from the
 * init gains nothing), n + 3 the sync pipe (WAIT_PARENT). Unused slots are closed. */
#define NSBOX_FD_PLAN 0
#define NSBOX_FD_REPORT 1
#define NSBOX_FD_PARENT 2
#define NSBOX_FD_SYNC 3
#define NSBOX_CONTROL_FDS 4

#endif
