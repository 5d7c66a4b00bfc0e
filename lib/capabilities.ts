/**
 * Capabilities of the command: the names the kernel headers give, the default set, and the
 * `capabilities` option resolved to the sets the helper applies (see docs/security.md).
 * @module
 */
import { invalidArgType, invalidArgValue } from './errors';

/** Every capability of linux/capability.h, by its number. */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** A capability, as linux/capability.h names it. */
export type Capability = (typeof CAPABILITIES)[number];

/**
 * The default set: Podman's (smaller than Docker's: no NET_RAW, MKNOD, AUDIT_WRITE). Nothing that
 * administers the system, traces, reads past permissions, loads code or talks to devices.
 */
export const DEFAULT_CAPABILITIES: readonly Capability[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID',
  'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

/** The `capabilities` option. */
export type CapabilitiesOption = 'default' | 'none' | 'all' | readonly Capability[];

/** What the helper applies: the set kept (bounding, permitted, effective, inheritable) and whether it is also raised ambient. */
export interface CapabilitySets {
  /** The capabilities kept, as names (for dryRun and errors). */
  names: Capability[];
  /** Bit n set: capability n kept. Two words (low, high), as the kernel's capability sets. */
  mask: [number, number];
  /** Raise the kept set into the ambient set: an explicit list, so a non-root command really has it. */
  ambient: boolean;
}

function maskOf(names: readonly Capability[]): [number, number] {
  const mask: [number, number] = [0, 0];
  for (const name of names) {
    const n = CAPABILITIES.indexOf(name);
    mask[n >> 5] = (mask[n >> 5] | (1 << (n & 31))) >>> 0;
  }
  return mask;
}

/** The capability named, with or without `CAP_` and in any case (`net_raw`, `CAP_NET_RAW`). */
export function capabilityName(text: string): Capability | undefined {
  const name = (text.toUpperCase().startsWith('CAP_') ? text : `CAP_${text}`).toUpperCase();
  return (CAPABILITIES as readonly string[]).includes(name) ? (name as Capability) : undefined;
}

/** Resolves the `capabilities` option; an unknown name is a TypeError. */
export function capabilitySets(v: unknown): CapabilitySets {
  if (v === undefined || v === 'default') return { names: [...DEFAULT_CAPABILITIES], mask: maskOf(DEFAULT_CAPABILITIES), ambient: false };
  if (v === 'none') return { names: [], mask: [0, 0], ambient: false };
  if (v === 'all') return { names: [...CAPABILITIES], mask: maskOf(CAPABILITIES), ambient: false };
  if (!Array.isArray(v)) throw invalidArgType('capabilities', "'default', 'none', 'all' or an array of capability names", v);
  if (v.length > CAPABILITIES.length * 2) throw invalidArgValue('capabilities', `has more entries than there are capabilities (${CAPABILITIES.length})`);
  const names = new Set<Capability>();
  for (let i = 0; i < v.length; i++) {
    const entry: unknown = v[i];
    if (typeof entry !== 'string' || !(CAPABILITIES as readonly string[]).includes(entry)) {
      throw invalidArgType(`capabilities[${i}]`, `a capability name such as 'CAP_NET_BIND_SERVICE' (one of ${CAPABILITIES.length} in linux/capability.h)`, entry);
    }
    names.add(entry as Capability);
  }
  const list = CAPABILITIES.filter((c) => names.has(c));
  return { names: list, mask: maskOf(list), ambient: true };
}
