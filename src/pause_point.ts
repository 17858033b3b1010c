/**
 * Deterministic pause points for crash tests. When the environment variable
 * `ARTIFACT_CLI_TEST_PAUSE_AT` names a point, the process prints one line to
 * stderr on reaching it and then waits forever, so a test can `kill -9` it at
 * exactly that moment (e.g. between the two renames of an atomic pull).
 * Unset (always, outside tests), a pause point costs one comparison.
 *
 * @module
 */

/** The environment variable naming the point to pause at. */
export const PAUSE_ENV = "ARTIFACT_CLI_TEST_PAUSE_AT";

/** Points a pull (or push) can be paused at, in the order it reaches them. */
export type PausePoint =
  | "extract" // the first chunk of the first layer has been written into the temp directory
  | "before-rename" // everything is extracted; nothing renamed yet
  | "between-renames" // the old output was moved aside; the new one not yet in place
  | "after-rename" // the new output is in place; the old copy not yet removed
  | "swap-old-aside" // a mount-point output: the first old entry was moved aside
  | "swap-new-in" // a mount-point output: the first new entry was moved in
  | "push-staged"; // a push: the layer is compressed into its staging directory, not uploaded

let wanted: string | undefined | null = null;

function wantedPoint(): string | undefined {
  if (wanted === null) {
    try {
      wanted = Deno.env.get(PAUSE_ENV) || undefined;
    } catch {
      wanted = undefined; // no --allow-env: a library user, never a test
    }
  }
  return wanted;
}

/**
 * Pause here if the test asked for `point`; otherwise return at once.
 *
 * @example
 * ```ts
 * import { pausePoint } from "./pause_point.ts";
 * await pausePoint("before-rename"); // returns immediately unless the env var says so
 * ```
 */
export async function pausePoint(point: PausePoint): Promise<void> {
  if (wantedPoint() !== point) return;
  const line = new TextEncoder().encode(`artifact-cli: paused at ${point} (pid ${Deno.pid})\n`);
  Deno.stderr.writeSync(line);
  for (;;) await new Promise((resolve) => setTimeout(resolve, 60_000));
}
