/**
 * An explicit garbage collection where the program knows it just dropped a
 * large buffer that V8 cannot see as large. fetch copies a byte-array request
 * body (the Fetch standard says so), so every 8 MiB upload chunk leaves an
 * 8 MiB copy behind, and V8 lets tens of them pile up before it collects.
 * The launchers pass `--expose-gc` (scripts/v8_flags.ts) so that the CLI can
 * ask; a library user without the flag gets V8's own schedule.
 *
 * @module
 */

type GcFunction = (options?: { type?: "major" | "minor"; execution?: "sync" | "async" }) => void;

/**
 * Collect garbage now when the runtime allows it (`--v8-flags=--expose-gc`); otherwise nothing.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./gc_hint.ts";
 * collectGarbage(); // a no-op unless deno runs with --v8-flags=--expose-gc
 * ```
 */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: GcFunction }).gc;
  if (typeof gc !== "function") return;
  // A minor collection is enough (the copies die young) and costs about a millisecond.
  gc({ type: "minor" });
}
