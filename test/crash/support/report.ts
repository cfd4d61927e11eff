import { appendFileSync } from 'node:fs';

/**
 * Prints a crash test's report as a short block, and appends it as one JSON line to
 * CRASH_REPORT_FILE when set (scripts/crash.mjs collects them into one table).
 */
export function report(test: string, figures: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(figures).map((key) => key.length));
  const lines = Object.entries(figures).map(
    ([key, value]) => `  ${key.padEnd(width)}  ${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  process.stdout.write(`\n[crash report] ${test}\n${lines.join('\n')}\n`);
  const file = process.env.CRASH_REPORT_FILE;
  if (file) appendFileSync(file, `${JSON.stringify({ test, at: new Date().toISOString(), ...figures })}\n`);
}
