/**
 * Test support: runs one fuzz target in a Web Worker, so that the test can
 * terminate it if an input hangs. Receives `{ target, seed, iterations }`,
 * posts `{ type: "progress", index }` as it goes and `{ type: "done", ... }`.
 */

import { rngFor } from "./fuzz.ts";
import { FUZZ_TARGETS } from "./fuzz_targets.ts";

/** A finding: the input (reproducible from seed and index) and what it threw. */
export interface Finding {
  index: number;
  input: string;
  error: string;
}

/** The worker's final report. */
export interface FuzzReport {
  type: "done";
  iterations: number;
  findings: Finding[];
  slowest: { index: number; ms: number };
  /** How many inputs ended in an allowed error (the rest returned a value). */
  rejected: number;
}

const worker = self as unknown as {
  onmessage: (e: MessageEvent) => void;
  postMessage(message: unknown): void;
};

worker.onmessage = async (event: MessageEvent) => {
  const { target: name, seed, iterations } = event.data as {
    target: string;
    seed: number;
    iterations: number;
  };
  const target = FUZZ_TARGETS[name];
  const corpus = await target.corpus();
  const findings: Finding[] = [];
  const slowest = { index: -1, ms: 0 };
  let rejected = 0;
  for (let index = 0; index < iterations && findings.length < 5; index++) {
    if (index % 25 === 0) worker.postMessage({ type: "progress", index });
    const rng = rngFor(seed, index);
    const input = target.mutate(rng, corpus);
    const start = performance.now();
    try {
      await target.run(input, rng);
    } catch (e) {
      if (target.allowed.some((c) => e instanceof c)) rejected++;
      else {
        findings.push({
          index,
          input: target.show(input),
          error: e instanceof Error ? (e.stack ?? e.message) : String(e),
        });
      }
    }
    const ms = performance.now() - start;
    if (ms > slowest.ms) Object.assign(slowest, { index, ms });
  }
  const report: FuzzReport = { type: "done", iterations, findings, slowest, rejected };
  worker.postMessage(report);
};
