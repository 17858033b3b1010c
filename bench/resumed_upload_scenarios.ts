/**
 * Bench row for resumable uploads: one large single-blob artifact pushed
 * through a proxy that drops a PATCH part-way (a proxy resetting the
 * connection). Chunked uploads resume from the registry's `Range`; the
 * baseline is one chunk as large as the blob, which has to be sent again
 * from byte zero. The proxy counts the request body bytes it read.
 */

import { join } from "node:path";
import { startFaultProxy } from "../tests/support/fault_proxy.ts";
import { startRegistry } from "../tests/support/registry.ts";
import type { BenchContext } from "./context.ts";
import type { Sample } from "./measure.ts";

const MiB = 1024 * 1024;

/** Rows for a `mib`-MiB blob dropped at 2.5 chunks in (chunk = mib / 8). */
export async function resumedUploadRows(ctx: BenchContext, mib: number): Promise<void> {
  ctx.log(`resumed upload: ${mib} MiB single blob`);
  const dir = ctx.fresh("resumed");
  await Deno.mkdir(dir, { recursive: true });
  const file = join(dir, "disk.raw");
  const data = new Uint8Array(mib * MiB);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  await Deno.writeFile(file, data);
  await using registry = await startRegistry();
  await using proxy = await startFaultProxy({ upstream: registry.url });
  const chunk = (mib / 8) * MiB;
  const dropAt = 2.5 * chunk;
  let round = 0;
  const run = async (chunked: boolean): Promise<{ sample: Sample; resent: number }> => {
    proxy.rules.length = 0;
    proxy.seen.length = 0;
    proxy.rules.push({
      method: "PATCH",
      path: /\/blobs\/uploads\//,
      skip: chunked ? 2 : 0,
      fault: { kind: "drop-request", afterBytes: chunked ? dropAt - 2 * chunk : dropAt },
    });
    const env = {
      ARTIFACT_CLI_RETRY_BASE_MS: "1",
      ARTIFACT_CLI_UPLOAD_CHUNK_BYTES: String(chunked ? chunk : 256 * MiB),
    };
    const sample = await ctx.cli([
      "push",
      `${proxy.host}/bench/resumed${round++}:v1`,
      file,
      "--artifact-type",
      "application/x.disk",
      "--plain-http",
    ], env);
    const sent = proxy.seen.filter((r) => r.method === "PATCH")
      .reduce((sum, r) => sum + r.bodyBytes, 0);
    return { sample, resent: sent - data.byteLength };
  };
  const resumed: Sample[] = [];
  const restarted: Sample[] = [];
  let resentResumed = 0;
  let resentRestarted = 0;
  for (let i = 0; i < ctx.options.runs; i++) {
    const a = await run(true);
    const b = await run(false);
    resumed.push(a.sample);
    restarted.push(b.sample);
    resentResumed = Math.max(resentResumed, a.resent);
    resentRestarted = Math.max(resentRestarted, b.resent);
  }
  await Deno.remove(dir, { recursive: true });
  ctx.rows.push({
    operation: `resumed upload: bytes re-sent after a drop at ${dropAt / MiB} MiB of ${mib} MiB`,
    bytes: data.byteLength,
    ours: resumed,
    baseline: { name: "restart from zero (one chunk)", samples: restarted },
    value: { ours: resentResumed, baseline: resentRestarted, unit: "bytes re-sent" },
    target: { maxRatio: chunk / resentRestarted, label: `<= one ${chunk / MiB} MiB chunk` },
    note: `${(resentResumed / MiB).toFixed(1)} MiB re-sent (chunks of ${chunk / MiB} MiB) vs ${
      (resentRestarted / MiB).toFixed(1)
    } MiB restarting from zero; the ratio is of bytes re-sent, not time`,
  });
}
