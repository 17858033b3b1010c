/**
 * Parser fuzzing: thousands of mutated inputs per parser (manifests and
 * indexes, image configs, references, platforms, tar headers and PAX
 * records, the tar parser alone and with extraction to disk, the zstd frame
 * splitter, decompression). Each may only return a value or throw one of our
 * typed errors. Inputs are reproducible: FUZZ_SEED=<seed> replays a run, and
 * a finding names its index. FUZZ_ITERATIONS scales the run (default per
 * target below). Each target runs in a worker that is terminated, failing
 * the test, if it stops making progress (a hang).
 */

import assert from "node:assert/strict";
import type { FuzzReport } from "./support/fuzz_worker.ts";

const BASE_SEED = Number(Deno.env.get("FUZZ_SEED") ?? 0x5eed);
const SCALE = Number(Deno.env.get("FUZZ_ITERATIONS_SCALE") ?? 1);
/** No progress for this long means an input hangs. */
const HANG_MS = 15_000;
/** A single input taking this long is a finding (they take microseconds). */
const SLOW_INPUT_MS = 3_000;

const TARGETS: [string, number][] = [
  ["manifest", 4000],
  ["config", 3000],
  ["reference", 5000],
  ["platform", 3000],
  ["tar-header", 5000],
  ["pax-records", 3000],
  ["tar-parser", 4000],
  ["tar-extract", 500],
  ["zstd-frames", 4000],
  ["decompress", 1500],
];

function runWorker(target: string, seed: number, iterations: number): Promise<FuzzReport> {
  const worker = new Worker(new URL("./support/fuzz_worker.ts", import.meta.url), {
    type: "module",
  });
  return new Promise<FuzzReport>((resolve, reject) => {
    let lastIndex = 0;
    let lastProgress = Date.now();
    const finish = () => {
      clearInterval(watchdog);
      worker.terminate();
    };
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress < HANG_MS) return;
      finish();
      reject(new Error(`${target}: no progress after input ${lastIndex} (seed ${seed}): a hang`));
    }, 250);
    worker.onmessage = (event) => {
      lastProgress = Date.now();
      if (event.data.type === "progress") lastIndex = event.data.index;
      else {
        finish();
        resolve(event.data as FuzzReport);
      }
    };
    worker.onerror = (event) => {
      event.preventDefault();
      finish();
      reject(new Error(`${target}: worker crashed after input ${lastIndex}: ${event.message}`));
    };
    worker.postMessage({ target, seed, iterations });
  });
}

for (const [i, [target, iterations]] of TARGETS.entries()) {
  const count = Math.max(1, Math.round(iterations * SCALE));
  Deno.test(`fuzz ${target}: ${count} mutated inputs give a value or a typed error, never hang`, async () => {
    const seed = BASE_SEED + i;
    const report = await runWorker(target, seed, count);
    assert.deepEqual(report.findings, [], `seed ${seed}`);
    assert.ok(
      report.slowest.ms < SLOW_INPUT_MS,
      `input ${report.slowest.index} (seed ${seed}) took ${Math.round(report.slowest.ms)} ms`,
    );
    // The mutations must reach both outcomes, or the fuzzer is not exercising anything.
    assert.ok(
      report.rejected > 0 && report.rejected < count,
      `${report.rejected} of ${count} rejected`,
    );
  });
}
