/**
 * Streams over our ends of the command's stdio pipes.
 * @module
 */
import net from 'net';
import { Readable, Writable } from 'stream';

/** A stream per fd: writable for fd 0 (the command reads it), readable for the others. */
export type StdioStream = Readable | Writable | null;

/** Wraps each pipe end (-1: none) in a libuv-backed socket, as child_process does. */
export function openStdioStreams(fds: readonly number[]): StdioStream[] {
  return fds.map((fd, i) => {
    if (fd < 0) return null;
    const socket = new net.Socket({ fd, readable: i !== 0, writable: i === 0 });
    return socket;
  });
}

/**
 * Streams for a sandbox that failed before its pipes existed: readable ends that simply end and a
 * stdin already destroyed (writes are dropped without an 'error'), as `child_process` gives for a
 * command that could not be spawned, so that `child.stdout.on(...)` works and the real error is
 * the one reported.
 */
export function endedStreams(entries: readonly ('pipe' | 'ignore' | number)[]): StdioStream[] {
  return entries.map((entry, i) => {
    if (entry !== 'pipe') return null;
    if (i === 0) {
      const stdin = new Writable({ write: (_chunk, _encoding, done) => done() });
      stdin.destroy();
      return stdin;
    }
    const out = new Readable({ read: () => undefined });
    out.push(null);
    return out;
  });
}
