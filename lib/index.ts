/**
 * nsbox: Linux namespaces for Node.js.
 *
 * - {@link spawnIsolated} starts a command as PID 1 of new namespaces, with a fresh `/proc` and
 *   optionally its own root filesystem.
 * - The in-process primitives (`unshare`, `setns`, `chroot`, `pivotRoot`, `mount`, `umount`,
 *   `sethostname`) act on this process or thread and say which.
 * - {@link namespaces} inspects the namespaces of any process; {@link persistNamespace} keeps one
 *   alive in a file; {@link probe} says what this host supports.
 * @module
 */
export { spawnIsolated } from './spawn';
export { IsolatedProcess } from './child';
export type { ExitResult, ExitReason, LimitHit, ResourceUsage } from './exit-result';
export type { ExecOptions } from './exec';
export type {
  IsolatedOptions, IdMap, JoinTarget, JoinableNamespace, TimeOffsets, VethOptions, MountSpec, BindMount, TmpfsMount, KernelFsMount, DirEntry, SymlinkEntry, FileEntry,
  RemountReadonly, ChmodEntry, OverlayMount, StdioName, StdioEntry,
} from './options';
export { NsboxError, AbortError, type NsboxErrorCode, type NsboxCode, type ErrnoCode } from './errors';
export type { Namespace, MountFlag, UmountFlag } from './constants';
export { NAMESPACES } from './constants';
export { unshare, setns, chroot, pivotRoot, mount, umount, sethostname, type ThreadScope, type MountOptions, type UmountOptions } from './primitives';
export { namespaces, type NamespaceInfo } from './namespaces';
export { hostRootfs, DEFAULT_BINARIES, type HostRootfs, type HostRootfsOptions } from './rootfs';
export { persistNamespace, releaseNamespace, type ProcessRef, type ReleaseOptions } from './persist';
export { dryRun, type DryRunPlan, type DryRunStep } from './dry-run';
export { cleanupCgroups, type LimitsOption } from './cgroup';
export { CAPABILITIES, DEFAULT_CAPABILITIES, type Capability, type CapabilitiesOption } from './capabilities';
export type { OciSeccomp, OciSeccompRule, OciSeccompArg, OciSeccompAction, OciSeccompFilter, SeccompOption } from './seccomp';
export type { Preset } from './preset';
export type { RlimitsOption, RlimitName, RlimitValue } from './rlimits';
export { probe, type ProbeResult, type ProbeDetails, type Verdict, type UserNamespaceSupport, type CgroupInfo, type KernelVersion } from './probe';
export { runIsolated, RunError, type RunOptions, type RunBufferOptions, type RunResult } from './run';
export type { IsolatedProcessEvents, IsolatedProcessListener, TraceEvent } from './events';
