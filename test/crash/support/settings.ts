/**
 * Knobs of the crash tests. The short form (default) is what CI runs inside `vitest run`;
 * CRASH_LONG=1 (set by `node scripts/crash.mjs --long`) switches every default to the long form;
 * each variable below overrides one number.
 */
export const LONG = process.env.CRASH_LONG === '1';
/** Seed of every random choice the tests make (kill moments, victims, pauses). */
export const SEED = Number(process.env.CRASH_SEED ?? 20251124);
/** Runs the tests that show known product defects (they fail until the defect is fixed). */
export const KNOWN_FAILURES = process.env.CRASH_KNOWN_FAILURES === '1';

export function knob(name: string, short: number, long: number): number {
  const raw = process.env[name];
  if (raw !== undefined && raw !== '') {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`${name} must be a non-negative number, got ${raw}`);
    return value;
  }
  return LONG ? long : short;
}
