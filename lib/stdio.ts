/**
 * Streams over our ends of the command's stdio pipes.
 * @module
 */
import net from 'net';
import type { Readable, Writable } from 'stream';

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
