/**
 * Who writes a user namespace's maps, which decides the order around the helper's exec (see
 * src/userns.h): the new process itself when it maps only its own ids (allowed unprivileged),
 * else this process, which needs CAP_SETUID/CAP_SETGID over the host ids it maps.
 * @module
 */
import type { IdMap, ResolvedOptions } from './options';

/** What the addon needs to set up the user namespace of a spawn. */
export interface UsernsRequest {
  writer: 'child' | 'parent';
  uidMap: string;
  gidMap: string;
}

function format(map: readonly IdMap[]): string {
  return map.map((l) => `${l.inside} ${l.outside} ${l.count}\n`).join('');
}

function onlyOwnId(map: readonly IdMap[], own: number): boolean {
  return map.length === 1 && map[0].count === 1 && map[0].outside === own;
}

/** The user namespace part of a spawn, or undefined without `user`. */
export function usernsRequest(o: ResolvedOptions): UsernsRequest | undefined {
  if (!o.user) return undefined;
  const self = onlyOwnId(o.uidMap, process.geteuid?.() ?? -1) && onlyOwnId(o.gidMap, process.getegid?.() ?? -1);
  return { writer: self ? 'child' : 'parent', uidMap: format(o.uidMap), gidMap: format(o.gidMap) };
}
