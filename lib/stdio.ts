/**
 * Streams over our ends of the command's stdio pipes.
 * @module
 */
import net from 'net';
import { Duplex, Readable, Writable } from 'stream';

/** A stream per fd: writable for fd 0 (the command reads it), readable for 1 and 2, both for 3 and up. */
export type StdioStream = Readable | Writable | Duplex | null;

/** Wraps each pipe end (-1: none) in a libuv-backed socket, as child_process does; fds 3 and up are socket pairs, duplex. */
export function openStdioStreams(fds: readonly number[]): StdioStream[] {
  return fds.map((fd, i) => {
    if (fd < 0) return null;
    return new net.Socket({ fd, readable: i !== 0, writable: i === 0 || i >= 3 });
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
    if (i >= 3) {
      const both = new Duplex({ read: () => undefined, write: (_chunk, _encoding, done) => done() });
      both.destroy();
      return both;
    }
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
