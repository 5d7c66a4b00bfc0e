/**
 * Every suite leaves the test process as it found it: the same open fds, no zombie children, the
 * same mount table. Runs around each test file (jest setupFilesAfterEnv). The first spawn of a
 * process opens three fds for good (the helper's memfd, a pidfd of this process, /dev/null), so
 * a warm-up spawn comes before the first look.
 */
import { spawnIsolated } from '../../lib';
import { isRoot } from './privilege';
import { openFds, settledFds, snapshot, waitFor, zombieChildren, type HostSnapshot } from './host';

let before: HostSnapshot;

beforeAll(async () => {
  if (isRoot) await spawnIsolated('true', [], { stdio: 'ignore' }).exited;
  // Look once the fd count has held still: handles of whatever ran before close on later turns.
  await settledFds();
  before = snapshot();
});

afterAll(async () => {
  // Stream handles close on later turns of the loop.
  await waitFor(() => openFds() === before.fds && zombieChildren() === 0, 2000);
  const after = snapshot();
  expect({ fds: after.fds, zombies: after.zombies }).toEqual({ fds: before.fds, zombies: 0 });
  expect(after.mountinfo).toBe(before.mountinfo);
});
