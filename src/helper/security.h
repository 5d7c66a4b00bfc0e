/* What the command is allowed: capabilities, a session keyring of its own, the seccomp filter.
 * The plan's CAPS and SECCOMP steps only record what to apply; command_exec applies it in the
 * command's own process right before exec, seccomp last, so nothing nsbox does is filtered. */
#ifndef NSBOX_HELPER_SECURITY_H
#define NSBOX_HELPER_SECURITY_H

#include "failure.h"
#include "plan.h"

/* CAPS step `index`: flags = the capabilities kept (bit n: capability n), a = 1 to raise them
 * ambient. A failure to apply them later names this step. */
int security_record_caps(const struct step *step, int index);
/* SECCOMP step `index`: str[0] holds the BPF program (struct sock_filter[]), compiled by the addon. */
int security_record_seccomp(const struct step *step, int index);
/* IDENTITY step `index`: the command's uid (a), gid (flags) and, with b = 1, its groups (str[0],
 * decimal, comma-separated), taken in its process before exec. */
int security_record_identity(const struct step *step, int index, struct failure *f);
/* KEYRING step: a new session keyring, for the init and the command (not the host root's). */
int security_join_keyring(struct failure *f);

/* In the command's process: the bounding set cut to the kept set, permitted, effective and
 * inheritable set to it, and the ambient set raised when asked. */
int security_apply_caps(struct failure *f);
/* Installs the filter. With no_new_privs it is the last thing before exec; without, installing
 * needs CAP_SYS_ADMIN, so it comes before the capabilities are cut (runc's order). */
int security_apply_seccomp(struct failure *f);

/* The init, once the command runs: it keeps only CAP_KILL (to end what the command started),
 * so that a process that got hold of it would gain nothing. */
int security_drop_init(struct failure *f);

#endif
