/**
 * `--timeout DURATION`: a deadline for a whole command that talks to
 * registries. Durations are strict: a positive integer and a unit
 * (`ms`, `s`, `m`, `h`), e.g. `30s`, `5m`, `1h`.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { removeRegisteredTemporaries } from "../interrupt.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds of a duration, or a UsageError naming it.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./deadline.ts";
 * console.assert(parseDuration("5m") === 300_000);
 * ```
 */
export function parseDuration(text: string, flag = "--timeout"): number {
  const match = /^([1-9][0-9]{0,8})(ms|s|m|h)$/.exec(text);
  if (!match) {
    throw new UsageError(
      `${flag}: invalid duration ${JSON.stringify(text)} (use e.g. 30s, 5m, 1h)`,
    );
  }
  return Number(match[1]) * UNITS[match[2]];
}

/**
 * End the process with one line and exit 1 when `text` has passed, removing
 * the temporary files an interrupt would remove. The timer
 * does not keep the process alive: a command that finishes earlier exits as usual.
 */
export function startDeadline(text: string): void {
  const ms = parseDuration(text);
  const timer = setTimeout(() => {
    const line = new TextEncoder().encode(
      `error: timed out after ${text}; temporary files removed\n`,
    );
    try {
      removeRegisteredTemporaries();
      Deno.stderr.writeSync(line);
    } finally {
      Deno.exit(1);
    }
  }, ms);
  Deno.unrefTimer(timer);
}
