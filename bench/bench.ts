/**
 * `deno task bench [--quick] [--smoke] [--runs N] [--level N] [--workers N] [--keep] [--only GROUPS]`
 *
 * Generates the data sets under a temporary directory, builds the bundled
 * CLI, starts real registries (tests/support/registry.ts), runs artifact-cli
 * as a subprocess and the baselines (GNU tar, gzip, zstd, curl, skopeo) the
 * same way, interleaved so that background load hits both alike, and prints
 * one table: operation, MiB/s, median wall time, peak RSS (GNU time), and
 * the ratio to the baseline with its target.
 *
 * --quick skips the 2 GiB memory check; --smoke uses tiny data and one run,
 * which proves the harness works and measures nothing. --only runs some
 * groups of rows (comma-separated: layout, registry, ranged, upload, small,
 * many, big).
 *
 * @module
 */

import { join } from "node:path";
import { BenchContext, parseOptions } from "./context.ts";
import { mixedTree, smallFilesTree } from "./datasets.ts";
import {
  layoutGzip,
  layoutZstd,
  memoryCheck,
  smallFiles,
  workerScaling,
} from "./layout_scenarios.ts";
import { registryRows, registrySupported } from "./registry_scenarios.ts";
import { rangedRows } from "./ranged_scenarios.ts";
import { resumedUploadRows } from "./resumed_upload_scenarios.ts";
import { formatTable } from "./table.ts";

const options = parseOptions(Deno.args);
const ctx = await BenchContext.create(options);
const sizes = options.smoke
  ? { mixed: 8, big: 0, small: 300, many: 0 }
  : { mixed: 512, big: options.quick ? 0 : 2048, small: 20_000, many: options.quick ? 0 : 100_000 };

try {
  ctx.log(`generating data sets under ${ctx.root}`);
  const data = join(ctx.root, "data");
  const mixed = await mixedTree(data, sizes.mixed);
  const small = await smallFilesTree(data, sizes.small, 1024);
  const withClient = await registrySupported(ctx);

  const run = (group: string) => !options.only || options.only.has(group);
  if (run("layout") || run("registry")) {
    const pushedLayout = await layoutGzip(ctx, mixed);
    if (run("layout")) {
      if (options.level !== 6) await workerScaling(ctx, mixed, 6);
      await layoutZstd(ctx, mixed);
    }
    if (run("registry")) await registryRows(ctx, mixed, pushedLayout, withClient);
    await ctx.removeAll([pushedLayout.layout]);
  }
  if (withClient && run("ranged")) await rangedRows(ctx, options.smoke ? 8 : 256);
  if (withClient && run("upload")) await resumedUploadRows(ctx, options.smoke ? 8 : 64);
  if (run("small")) await smallFiles(ctx, small);
  if (sizes.many && run("many")) {
    // Memory of the file list: push and pull peak RSS must not grow with the file count.
    ctx.log(`generating ${sizes.many} files`);
    const many = await smallFilesTree(data, sizes.many, 1024);
    await memoryCheck(ctx, many);
    await ctx.removeAll([many.dir]);
  }
  if (sizes.big && run("big")) {
    await ctx.removeAll([mixed.dir, small.dir]);
    ctx.log(`generating ${sizes.big} MiB`);
    await memoryCheck(ctx, await mixedTree(data, sizes.big));
  }
} finally {
  if (!options.keep) await Deno.remove(ctx.root, { recursive: true }).catch(() => {});
}

const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3);
console.log(
  `artifact-cli bench: gzip level ${options.level} (small files: 6, as tar czf), ` +
    `${options.workers} compression workers, ${options.runs} runs per operation interleaved ` +
    `with the baseline, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, ` +
    `load average at the end ${load.join(" ")}` +
    (options.smoke ? " (SMOKE: tiny data, not a measurement)" : ""),
);
console.log(formatTable(ctx.rows, { verdicts: !options.smoke }));
