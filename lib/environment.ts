/**
 * Whether a spawn can hand the command this process's C environment as it is, instead of
 * copying `process.env` into the plan (which costs more than the rest of the spawn's JavaScript).
 * @module
 */
import type { NativeBinding } from './native';

const genuine = new WeakMap<object, boolean>();

/**
 * True when `process.env` is Node's own object, whose writes go to the C environment. Test
 * runners such as jest replace it with a plain copy; then the environment must be copied, as
 * `child_process` would use that copy. Probed once per `process.env` object.
 */
export function processEnvIsEnviron(binding: NativeBinding): boolean {
  const env = process.env;
  let known = genuine.get(env);
  if (known === undefined) {
    const key = `NSBOX_ENV_PROBE_${process.pid}`;
    const value = String(Math.random());
    env[key] = value;
    known = binding.getenv(key) === value;
    delete env[key];
    genuine.set(env, known);
  }
  return known;
}

/** `process.env` as `KEY=value` strings, as the plan carries an explicit environment. */
export function processEnvStrings(): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) out.push(`${key}=${value}`);
  return out;
}
