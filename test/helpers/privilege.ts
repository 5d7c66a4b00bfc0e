/**
 * Who may run namespace tests. Under CI=true nothing may skip: a missing privilege fails the
 * suite. Elsewhere a suite that lacks it skips, saying why.
 */
export const isRoot = process.getuid?.() === 0;
export const inCI = process.env.CI === 'true';

/** `describe` for suites that need root; skips with the reason outside CI. */
export function describeAsRoot(name: string, body: () => void): void {
  if (isRoot) {
    describe(name, body);
    return;
  }
  if (inCI) {
    describe(name, () => {
      it('needs root (CI=true forbids skipping)', () => {
        throw new Error(`${name}: the namespace tests need root; run the CI as root`);
      });
    });
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`skipping "${name}": needs root (uid 0) for PID and mount namespaces`);
  describe.skip(name, body);
}

/** Whether bubblewrap is installed (for the parity tests; CI installs it from .ci/apt-packages). */
export function bwrapInstalled(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('child_process') as typeof import('child_process')).execFileSync('bwrap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
