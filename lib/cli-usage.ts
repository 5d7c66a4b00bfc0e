/**
 * What `nsbox` says: its help texts, and how it stops on bad usage (exit 2) or its own failure (125).
 * @module
 */

const EXIT_STATUS = `Exit status:
  N        the command's own exit status
  128+N    the command died of signal N
  2        bad usage: an unknown flag, a value nsbox refuses, no command
  125      nsbox itself failed (the sandbox could not be set up, the addon did not load)
  126      the command could not be executed
  127      the command was not found`;

export const USAGE = `Usage: nsbox COMMAND [options]

Linux namespaces from the command line.

Commands:
  run [options] [--] COMMAND [ARGS...]   run COMMAND as PID 1 of new namespaces
  help [COMMAND]                         show this help, or COMMAND's (nsbox run --help)

Options:
  -h, --help          show this help
  -V, --version       print nsbox's version

${EXIT_STATUS}`;

export const RUN_USAGE = `Usage: nsbox run [options] [--] COMMAND [ARGS...]

Runs COMMAND as PID 1 of new PID and mount namespaces, with a fresh /proc. Run by a user other
than root, it adds a user namespace (as bwrap does), in which that user is root.

Options:
  --rootfs DIR        use DIR as the root filesystem (pivot_root), with a minimal /dev
  --readonly-root     the rootfs read-only inside
  --no-new-privs      setuid binaries and file capabilities no longer raise privileges (the default)
  --allow-new-privs   let them (no_new_privs off)
  --cap-add CAP       keep capability CAP (CAP_NET_RAW or NET_RAW; ALL for every one) (repeatable)
  --cap-drop CAP      drop capability CAP from the default set (ALL for every one) (repeatable)
  --seccomp FILE      the seccomp profile in FILE: JSON of an OCI linux.seccomp object (Docker's format)
  --no-seccomp        no seccomp filter
  --untrusted         the strictest sandbox this host allows (preset: 'untrusted'); flags given
                      with it win
  --nice N            run the whole sandbox at niceness N (-20..19), as nice(1)
  --hostname NAME     new UTS namespace with this hostname
  --ipc               new IPC namespace
  --net               new network namespace (only lo, up)
  --cgroup            new cgroup namespace
  --user              new user namespace (root inside, you outside: works without root)
  --all               a new namespace of every kind
  --cwd DIR           working directory inside
  --bind SRC:DST      bind-mount host SRC on DST (repeatable; SRC DEST is bwrap's form, below)
  --ro-bind SRC:DST   the same, read-only (repeatable)
  --tmpfs DST         mount a tmpfs on DST (repeatable)
  --no-init           the command itself is PID 1 (no reaping, default signal handling off)
  --kill-after SECS   after a signal that asks the sandbox to end (INT, TERM, HUP, QUIT) or a
                      hang-up of the terminal, SIGKILL it SECS later if it still runs (default 2)
  --no-proc           keep the host's /proc (ps then shows the host's processes)
  --no-dev            no minimal /dev in the rootfs
  --new-session       detach the command from the terminal even when it is interactive
  --dry-run           print the plan (dryRun's JSON: namespaces, maps, every setup step) and run
                      nothing
  -h, --help          show this help
  -V, --version       print nsbox's version

bubblewrap's flags (a bwrap command line runs under nsbox by changing the program's name):
  --bind SRC DEST, --ro-bind SRC DEST, --dev-bind SRC DEST    bind mounts (recursive)
  --bind-try, --ro-bind-try, --dev-bind-try SRC DEST         the same, skipped if SRC is missing
  --tmpfs DEST, --proc DEST, --dev DEST, --mqueue DEST       new filesystems
  --dir DEST, --symlink SRC DEST, --chmod OCTAL PATH         a directory, a link to SRC, a mode
  --file FD DEST, --bind-data FD DEST, --ro-bind-data FD DEST  a file with fd FD's content
  --remount-ro DEST   DEST read-only (recursively, unlike bwrap)
  --perms OCTAL       the mode of the next --tmpfs, --dir, --file, --bind-data, --ro-bind-data
  --size BYTES        the size of the next --tmpfs
  --overlay-src SRC   a lower layer (repeatable, bottom to top) of the next overlay:
  --tmp-overlay DEST  overlayfs on DEST, its writes in a tmpfs that vanishes with the sandbox
  --overlay RWSRC WORKDIR DEST   overlayfs on DEST, its writes in RWSRC
  --uid UID, --gid GID           who the command is inside
  --setenv VAR VALUE, --unsetenv VAR, --clearenv   the environment, changed in the order given
  --chdir DIR, --argv0 VALUE, --hostname NAME, --new-session, --cap-add CAP, --cap-drop CAP
  --unshare-user, --unshare-ipc, --unshare-pid, --unshare-net, --unshare-uts, --unshare-cgroup,
  --unshare-all, --share-net      namespaces (nsbox always makes new PID and mount ones)
  --as-pid-1          the same as --no-init
  --die-with-parent   accepted: nsbox always does
They are applied in the order given. A mount on '/' gives the root: --ro-bind / / (or --bind / /)
is the host's tree, read-only (or not), --bind DIR / is DIR; only then do --proc /proc and
--dev /dev decide whether the sandbox gets a new /proc and /dev, as in bwrap. Without one, unlike
bwrap (which starts from an empty root), the root stays the host's tree (or --rootfs) and the
mounts are made on it, in the sandbox only; --file, --bind-data, --ro-bind-data, --dir, --symlink
and --chmod, which would change the host's own files, then need a root. DEST must be absolute.
--bind and --ro-bind take SRC DEST unless their word holds a ':' and is followed by a flag, --
or nothing (then it is SRC:DST). bwrap's flags nsbox does not offer (--seccomp FD, --userns, --pidns, --lock-file, --sync-fd, --info-fd,
--json-status-fd, --block-fd, --userns-block-fd, --exec-label, --file-label, --add-seccomp-fd,
--args, --bind-fd, --ro-bind-fd, --ro-overlay, --unshare-user-try, --unshare-cgroup-try,
--disable-userns, --assert-userns-disabled, --level-prefix) are refused by name (exit 2).

The options end at -- or at the first word that is not one: nsbox run ls -la / works.

${EXIT_STATUS}`;

/** Prints `nsbox: MESSAGE` and exits with `code` (125: nsbox failed; 2: bad usage). */
export function fail(message: string, code = 125): never {
  process.stderr.write(`nsbox: ${message}\n`);
  process.exit(code);
}

/** Exits 2 for bad usage. */
export const usage = (message: string): never => fail(message, 2);
