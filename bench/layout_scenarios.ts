/**
 * Push and pull of the mixed tree through OCI layouts (gzip and zstd), and
 * a re-push of the unchanged tree.
 *
 * @module
 */

import { RSS_TARGETS, TARGETS } from "./table.ts";
import { type BenchContext, blobPath, pushed } from "./context.ts";
import type { Dataset } from "./datasets.ts";
import { interleave, measureShell, type Sample } from "./measure.ts";

/** A layout artifact-cli pushed, kept for later scenarios. */
export interface PushedLayout {
  layout: string;
  /** Digest of its layer. */
  layer: string;
  /** Path of the layer blob. */
  blob: string;
}

/** Rows for gzip push (vs GNU and vs one worker), pull, re-push; returns the layout. */
export async function layoutGzip(ctx: BenchContext, data: Dataset): Promise<PushedLayout> {
  const { runs, level: L, workers: W } = ctx.options;
  const cleanup: string[] = [];
  const layouts: string[] = [];
  ctx.log(`${data.name}: push to layouts`);
  const push = await interleave(runs, {
    gnu: () => {
      const file = ctx.fresh("gnu.tar.gz");
      cleanup.push(file);
      return measureShell(`tar cf - -C "$DIR" . | gzip -${L} > "$OUT"`, {
        DIR: data.dir,
        OUT: file,
      });
    },
    ours: () => {
      const layout = ctx.fresh("layout");
      layouts.push(layout);
      return ctx.push(`oci:${layout}:v1`, data, L, W);
    },
    one: () => {
      const layout = ctx.fresh("layout-1w");
      cleanup.push(layout);
      return ctx.push(`oci:${layout}:v1`, data, L, 1);
    },
    inline: () => {
      const layout = ctx.fresh("layout-0w");
      cleanup.push(layout);
      return ctx.push(`oci:${layout}:v1`, data, L, 0);
    },
  });
  await ctx.removeAll(cleanup);
  ctx.rows.push({
    operation: `push ${data.name} -> layout, gzip -${L}, ${W} workers`,
    bytes: data.bytes,
    ours: push.ours,
    baseline: { name: `tar cf - | gzip -${L} > file`, samples: push.gnu },
    target: TARGETS.threeTimesFaster,
    maxRssMiB: RSS_TARGETS.push,
  }, {
    operation: `push ${data.name} -> layout, ${W} workers vs 1 worker`,
    bytes: data.bytes,
    ours: push.ours,
    baseline: { name: "artifact-cli, 1 worker", samples: push.one },
    target: TARGETS.onePointSixTimesFaster,
  }, {
    operation: `push ${data.name} -> layout, ${W} workers vs none (main thread only)`,
    bytes: data.bytes,
    ours: push.ours,
    baseline: { name: "artifact-cli, 0 workers", samples: push.inline },
    target: TARGETS.onePointSixTimesFaster,
  });
  // Keep one layout for the pulls; the others go.
  const layout = layouts.pop()!;
  await ctx.removeAll(layouts);
  const layer = pushed(push.ours.at(-1)!).layer;
  const blob = blobPath(layout, layer);

  ctx.log(`${data.name}: pull from a layout`);
  const pull = await interleave(runs, {
    gnu: () => {
      const out = ctx.fresh("gnu-x");
      cleanup.push(out);
      return measureShell(`mkdir -p "$OUT" && gzip -dc < "$BLOB" | tar x -C "$OUT"`, {
        OUT: out,
        BLOB: blob,
      });
    },
    ours: () => {
      const out = ctx.fresh("pull");
      cleanup.push(out);
      return ctx.cli(["pull", `oci:${layout}:v1`, "-o", out]);
    },
    worker: () => {
      const out = ctx.fresh("pull-worker");
      cleanup.push(out);
      return ctx.cli(["pull", `oci:${layout}:v1`, "-o", out], { ARTIFACT_CLI_INFLATE_WORKER: "1" });
    },
  });
  await ctx.removeAll(cleanup);
  ctx.rows.push({
    operation: `pull ${data.name} <- layout (gzip)`,
    bytes: data.bytes,
    ours: pull.ours,
    baseline: { name: "gzip -dc < blob | tar x", samples: pull.gnu },
    target: TARGETS.fourTimesFaster,
    maxRssMiB: RSS_TARGETS.pull,
  }, {
    operation:
      `pull ${data.name} <- layout, inflate worker (ARTIFACT_CLI_INFLATE_WORKER=1) vs default`,
    bytes: data.bytes,
    ours: pull.worker,
    baseline: { name: "artifact-cli, default (calling thread)", samples: pull.ours },
  });

  ctx.log(`${data.name}: re-push of the unchanged tree`);
  ctx.rows.push({
    operation: `re-push ${data.name} -> layout, unchanged`,
    bytes: data.bytes,
    ours: await repush(ctx, `oci:${layout}:v1`, data),
    note: "every blob skipped (0 bytes uploaded); the time is packing and compressing",
  });
  return { layout, layer, blob };
}

/** Push the same tree to the same place again; fails unless every blob is skipped. */
export async function repush(ctx: BenchContext, ref: string, data: Dataset): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < ctx.options.runs; i++) {
    const sample = await ctx.push(ref, data, ctx.options.level, ctx.options.workers);
    const blobs = pushed(sample).blobs;
    if (blobs.some((b) => b !== "skipped")) throw new Error(`re-push uploaded: ${blobs}`);
    samples.push(sample);
  }
  return samples;
}

/**
 * Worker scaling at a level where compression dominates (gzip -6, the
 * default): W workers against 1, interleaved.
 */
export async function workerScaling(ctx: BenchContext, data: Dataset, level: number) {
  const { runs, workers: W } = ctx.options;
  const layouts: string[] = [];
  ctx.log(`${data.name}: ${W} workers vs 1 at gzip -${level}`);
  const push = await interleave(runs, {
    ours: () => {
      const layout = ctx.fresh("layout-scaling");
      layouts.push(layout);
      return ctx.push(`oci:${layout}:v1`, data, level, W);
    },
    one: () => {
      const layout = ctx.fresh("layout-scaling-1w");
      layouts.push(layout);
      return ctx.push(`oci:${layout}:v1`, data, level, 1);
    },
  });
  await ctx.removeAll(layouts);
  ctx.rows.push({
    operation: `push ${data.name} -> layout, gzip -${level}, ${W} workers vs 1 worker`,
    bytes: data.bytes,
    ours: push.ours,
    baseline: { name: "artifact-cli, 1 worker", samples: push.one },
    target: TARGETS.onePointSixTimesFaster,
  });
}

/** Rows for zstd push and pull (the fast option). */
export async function layoutZstd(ctx: BenchContext, data: Dataset): Promise<void> {
  const { runs, workers: W } = ctx.options;
  const cleanup: string[] = [];
  const layouts: string[] = [];
  ctx.log(`${data.name}: zstd`);
  const push = await interleave(runs, {
    gnu: () => {
      const file = ctx.fresh("gnu.tar.zst");
      cleanup.push(file);
      return measureShell(`tar cf - -C "$DIR" . | zstd -3 -q > "$OUT"`, {
        DIR: data.dir,
        OUT: file,
      });
    },
    ours: () => {
      const layout = ctx.fresh("layout-zstd");
      layouts.push(layout);
      return ctx.cli(["push", `oci:${layout}:v1`, data.dir, "--compression", "zstd"]);
    },
  });
  await ctx.removeAll(cleanup);
  ctx.rows.push({
    operation: `push ${data.name} -> layout, zstd -3, ${W} workers`,
    bytes: data.bytes,
    ours: push.ours,
    baseline: { name: "tar cf - | zstd -3 > file", samples: push.gnu },
  });
  const layout = layouts.at(-1)!;
  const blob = blobPath(layout, pushed(push.ours.at(-1)!).layer);
  const pull = await interleave(runs, {
    gnu: () => {
      const out = ctx.fresh("gnu-zx");
      cleanup.push(out);
      return measureShell(`mkdir -p "$OUT" && zstd -dc < "$BLOB" | tar x -C "$OUT"`, {
        OUT: out,
        BLOB: blob,
      });
    },
    ours: () => {
      const out = ctx.fresh("pull-zstd");
      cleanup.push(out);
      return ctx.cli(["pull", `oci:${layout}:v1`, "-o", out]);
    },
  });
  await ctx.removeAll(cleanup);
  ctx.rows.push({
    operation: `pull ${data.name} <- layout (zstd)`,
    bytes: data.bytes,
    ours: pull.ours,
    baseline: { name: "zstd -dc < blob | tar x", samples: pull.gnu },
  });
  await ctx.removeAll(layouts);
}

/** Rows for many small files: push vs `tar czf`, pull vs `tar xzf` (both gzip -6). */
export async function smallFiles(ctx: BenchContext, data: Dataset): Promise<void> {
  ctx.log(`${data.name}: push and pull (gzip -6, as tar czf)`);
  const layouts: string[] = [];
  const archives: string[] = [];
  const outputs: string[] = [];
  const push = await interleave(ctx.options.runs, {
    gnu: () => {
      const file = ctx.fresh("small.tgz");
      archives.push(file);
      return measureShell(`tar czf "$OUT" -C "$DIR" .`, { DIR: data.dir, OUT: file });
    },
    ours: () => {
      const layout = ctx.fresh("small-layout");
      layouts.push(layout);
      return ctx.push(`oci:${layout}:v1`, data, 6, ctx.options.workers);
    },
  });
  ctx.rows.push({
    operation: `push ${data.name} -> layout, gzip -6`,
    bytes: data.bytes,
    ours: push.ours,
    baseline: { name: "tar czf", samples: push.gnu },
    target: TARGETS.within1_5,
    maxRssMiB: RSS_TARGETS.push,
  });
  const pull = await interleave(ctx.options.runs, {
    gnu: () => {
      const out = ctx.fresh("small-x");
      outputs.push(out);
      return measureShell(`mkdir -p "$OUT" && tar xzf "$IN" -C "$OUT"`, {
        OUT: out,
        IN: archives[0],
      });
    },
    ours: () => {
      const out = ctx.fresh("small-pull");
      outputs.push(out);
      return ctx.cli(["pull", `oci:${layouts[0]}:v1`, "-o", out]);
    },
  });
  await ctx.removeAll(outputs);
  ctx.rows.push({
    operation: `pull ${data.name} <- layout`,
    bytes: data.bytes,
    ours: pull.ours,
    baseline: { name: "tar xzf", samples: pull.gnu },
    target: TARGETS.within1_5,
    maxRssMiB: RSS_TARGETS.pull,
  });
  await ctx.removeAll([...layouts, ...archives]);
}

/** Push and pull of a big tree, for peak memory (no baseline). */
export async function memoryCheck(ctx: BenchContext, data: Dataset): Promise<void> {
  ctx.log(`${data.name}: memory check`);
  const layouts: string[] = [];
  const outputs: string[] = [];
  const push = await interleave(ctx.options.runs, {
    ours: () => {
      const layout = ctx.fresh("big-layout");
      layouts.push(layout);
      return ctx.push(`oci:${layout}:v1`, data, ctx.options.level, ctx.options.workers);
    },
  }, { cleanup: () => ctx.removeAll(layouts.length > 1 ? [layouts.pop()!] : []) });
  const pull = await interleave(ctx.options.runs, {
    ours: () => {
      const out = ctx.fresh("big-pull");
      outputs.push(out);
      return ctx.cli(["pull", `oci:${layouts[0]}:v1`, "-o", out]);
    },
  }, { cleanup: () => ctx.removeAll(outputs) });
  const note = "memory check (issue 13: push <= 112 MiB, pull <= 80 MiB)";
  ctx.rows.push({
    operation: `push ${data.name} -> layout, gzip -${ctx.options.level}`,
    bytes: data.bytes,
    ours: push.ours,
    note,
    maxRssMiB: RSS_TARGETS.push,
  }, {
    operation: `pull ${data.name} <- layout`,
    bytes: data.bytes,
    ours: pull.ours,
    note,
    maxRssMiB: RSS_TARGETS.pull,
  });
  await ctx.removeAll(layouts);
}
