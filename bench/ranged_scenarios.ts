/**
 * Bench rows for parallel ranged downloads: one large single-blob artifact
 * pulled through a proxy capping each connection (as registries and CDNs
 * do), with Range parts and with one connection, and the same uncapped.
 */

import { join } from "node:path";
import { startFaultProxy } from "../tests/support/fault_proxy.ts";
import { startRegistry } from "../tests/support/registry.ts";
import type { BenchContext } from "./context.ts";
import { interleave, type Sample } from "./measure.ts";
import { TARGETS } from "./table.ts";

/** About 20 MiB/s per connection: 64 KiB every 3 ms. */
const CAP = { chunkBytes: 64 * 1024, delayMs: 3 };

/** Rows for a `mib`-MiB blob: capped (4 parts at once vs 1 stream) and uncapped. */
export async function rangedRows(ctx: BenchContext, mib: number): Promise<void> {
  ctx.log(`ranged download: ${mib} MiB single blob`);
  const dir = ctx.fresh("ranged");
  await Deno.mkdir(dir, { recursive: true });
  const file = join(dir, "disk.raw");
  const data = new Uint8Array(mib * 1024 * 1024);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  await Deno.writeFile(file, data);
  await using registry = await startRegistry();
  await using proxy = await startFaultProxy({ upstream: registry.url });
  const ref = `${proxy.host}/bench/disk:v1`;
  await ctx.cli([
    "push",
    `${registry.host}/bench/disk:v1`,
    file,
    "--artifact-type",
    "application/x.disk",
  ]);
  // Small bench data sets still take the ranged path.
  const ranged = {
    ARTIFACT_CLI_RANGED_MIN_BYTES: String(Math.min(64, mib / 2) * 1024 * 1024),
    ARTIFACT_CLI_RANGED_PART_BYTES: String(Math.min(4, mib / 8) * 1024 * 1024),
  };
  const single = { ...ranged, ARTIFACT_CLI_RANGED_CONNECTIONS: "1" };
  const outputs: string[] = [];
  const pull = (env: Record<string, string>) => () => {
    const out = ctx.fresh("ranged-out");
    outputs.push(out);
    return ctx.cli(["pull", ref, "-o", out, "--plain-http"], env);
  };
  const rows = async (capped: boolean): Promise<Record<string, Sample[]>> => {
    proxy.rules.length = 0;
    if (capped) {
      proxy.rules.push({
        method: "GET",
        path: /\/blobs\//,
        times: Infinity,
        fault: { kind: "slow-body", ...CAP },
      });
    }
    const samples = await interleave(ctx.options.runs, { ranged: pull(ranged), one: pull(single) });
    await ctx.removeAll(outputs.splice(0));
    return samples;
  };
  const capped = await rows(true);
  const open = await rows(false);
  ctx.rows.push({
    operation:
      `pull ${mib} MiB single blob, ~20 MiB/s per connection: Range parts (after the probe)`,
    bytes: data.byteLength,
    ours: capped.ranged,
    baseline: { name: "artifact-cli, one connection", samples: capped.one },
    target: TARGETS.threeTimesFaster,
  }, {
    operation:
      `pull ${mib} MiB single blob, uncapped: default (probe, stays one stream) vs one connection`,
    bytes: data.byteLength,
    ours: open.ranged,
    baseline: { name: "artifact-cli, one connection", samples: open.one },
    target: TARGETS.within1_2,
  });
  await Deno.remove(dir, { recursive: true });
}
