/**
 * Every suite leaves the test process as it found it: the same open fds, no zombie children, the
 * same mount table. Runs around each test file (jest setupFilesAfterEnv). The first spawn of a
 * process opens three fds for good (the helper's memfd, a pidfd of this process, /dev/null), so
 * a warm-up spawn comes before the first look.
 */
import { spawnIsolated } from '../../lib';
import { isRoot } from './privilege';
import { openFds, snapshot, waitFor, zombieChildren, type HostSnapshot } from './host';

let before: HostSnapshot;

beforeAll(async () => {
  if (isRoot) await spawnIsolated('true', [], { stdio: 'ignore' }).exited;
  // Handles of whatever ran before (the helpers' own child processes) close on later turns of
  // the loop: look once the fd count has held still for a few turns.
  let last = -1;
  let still = 0;
  await waitFor(() => {
    const fds = openFds();
    still = fds === last ? still + 1 : 0;
    last = fds;
    return still >= 3;
  }, 1000, 20);
  before = snapshot();
});

afterAll(async () => {
  // Stream handles close on later turns of the loop.
  await waitFor(() => openFds() === before.fds && zombieChildren() === 0, 2000);
  const after = snapshot();
  expect({ fds: after.fds, zombies: after.zombies }).toEqual({ fds: before.fds, zombies: 0 });
  expect(after.mountinfo).toBe(before.mountinfo);
});
