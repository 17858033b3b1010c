/**
 * Push and pull through a real registry (tests/support/registry.ts), against
 * GNU tar + gzip + curl, with curl and skopeo uploads as the upload limit.
 *
 * @module
 */

import { RSS_TARGETS, TARGETS } from "./table.ts";
import { startRegistry, type TestRegistry } from "../tests/support/registry.ts";
import { type BenchContext, pushed } from "./context.ts";
import type { Dataset } from "./datasets.ts";
import type { PushedLayout } from "./layout_scenarios.ts";
import { repush } from "./layout_scenarios.ts";
import { interleave, measure, measureShell, type Sample, settleDisk } from "./measure.ts";

/**
 * The GNU pipeline pushing a tree as one gzip blob: POST an upload, PATCH
 * the piped body (chunked, streamed), PUT with the digest a tee'd sha256sum
 * computed.
 */
export function gnuRegistryPush(
  registry: TestRegistry,
  repo: string,
  dir: string,
  level: number,
): Promise<Sample> {
  return measureShell(
    `tmp=$(mktemp -d)
loc=$(curl -sS -f -X POST -D - -o /dev/null "$REG/v2/$REPO/blobs/uploads/" | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p')
case "$loc" in http*) ;; *) loc="$REG$loc";; esac
tar cf - -C "$DIR" . | gzip -$LEVEL | tee >(sha256sum | cut -d' ' -f1 > "$tmp/digest") |
  curl -sS -f -X PATCH -H 'Content-Type: application/octet-stream' -T - -D "$tmp/h" -o /dev/null "$loc"
loc=$(tr -d '\\r' < "$tmp/h" | sed -n 's/^[Ll]ocation: //p')
case "$loc" in http*) ;; *) loc="$REG$loc";; esac
while [ ! -s "$tmp/digest" ]; do sleep 0.01; done
sep='?'; case "$loc" in *\\?*) sep='&';; esac
curl -sS -f -X PUT -H 'Content-Length: 0' -o /dev/null "$loc\${sep}digest=sha256:$(cat "$tmp/digest")"
rm -rf "$tmp"`,
    { REG: registry.url, REPO: repo, DIR: dir, LEVEL: String(level) },
  );
}

/** A monolithic upload of an existing blob file with curl (POST, PUT with body). */
export function curlUpload(
  registry: TestRegistry,
  repo: string,
  file: string,
  digest: string,
): Promise<Sample> {
  return measureShell(
    `loc=$(curl -sS -f -X POST -D - -o /dev/null "$REG/v2/$REPO/blobs/uploads/" | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p')
case "$loc" in http*) ;; *) loc="$REG$loc";; esac
sep='?'; case "$loc" in *\\?*) sep='&';; esac
curl -sS -f -X PUT -H 'Content-Type: application/octet-stream' -T "$FILE" -o /dev/null "$loc\${sep}digest=$DIGEST"`,
    { REG: registry.url, REPO: repo, FILE: file, DIGEST: digest },
  );
}

/** Whether this build of artifact-cli can push to a registry (the client may be missing). */
export async function registrySupported(ctx: BenchContext): Promise<boolean> {
  await using registry = await startRegistry();
  const dir = ctx.fresh("probe");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/a.txt`, "a");
  try {
    await ctx.cli(["push", `${registry.host}/bench/probe:v1`, dir]);
    return true;
  } catch (e) {
    const reason = (e as Error).message.split("\n").filter(Boolean).at(-1);
    ctx.log(
      `artifact-cli cannot push to a registry here; its registry rows are skipped (${reason})`,
    );
    return false;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Registry rows: upload limits always; artifact-cli push/pull when it has a registry client. */
export async function registryRows(
  ctx: BenchContext,
  data: Dataset,
  pushedLayout: PushedLayout,
  withClient: boolean,
): Promise<void> {
  const { runs, level: L, workers: W } = ctx.options;
  ctx.log(`${data.name}: registry`);
  let registry: TestRegistry | undefined;
  const reg = () => registry!;
  const stop = async () => {
    await registry?.stop();
    registry = undefined;
    await settleDisk();
  };
  const jobs: Record<string, () => Promise<Sample>> = {
    gnu: () => gnuRegistryPush(reg(), "bench/gnu", data.dir, L),
    raw: () => curlUpload(reg(), "bench/raw", pushedLayout.blob, pushedLayout.layer),
    skopeo: () =>
      measure("skopeo", [
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        `oci:${pushedLayout.layout}:v1`,
        `docker://${reg().host}/bench/skopeo:v1`,
      ]),
  };
  if (withClient) {
    jobs.ours = () => ctx.push(`${reg().host}/bench/ours:v1`, data, L, W);
    jobs.one = () => ctx.push(`${reg().host}/bench/one:v1`, data, L, 1);
  }
  // A fresh, empty registry per round: nothing can be skipped or mounted.
  const push = await interleave(runs, jobs, {
    prepare: async () => void (registry = await startRegistry()),
    cleanup: stop,
  });
  ctx.rows.push({
    operation: `upload limit: curl PUT of the ${data.name} gzip blob`,
    bytes: data.bytes,
    ours: push.raw,
    note: "reference: one precompressed blob, no packing or compression",
  }, {
    operation: "upload limit: skopeo copy oci:layout -> registry",
    bytes: data.bytes,
    ours: push.skopeo,
    note: "reference: the image artifact-cli wrote to a layout, copied as it is",
  });
  if (!withClient) {
    ctx.rows.push({
      operation: `push ${data.name} -> registry: GNU pipeline only`,
      bytes: data.bytes,
      ours: push.gnu,
      note: `tar | gzip -${L} | curl PATCH; artifact-cli has no registry client in this build`,
    });
    return;
  }
  ctx.rows.push({
    operation: `push ${data.name} -> registry, gzip -${L}, ${W} workers`,
    bytes: data.bytes,
    ours: push.ours,
    baseline: { name: `tar | gzip -${L} | curl PATCH`, samples: push.gnu },
    target: TARGETS.threeTimesFaster,
    maxRssMiB: RSS_TARGETS.push,
  }, {
    operation: `push ${data.name} -> registry, ${W} workers vs 1 worker`,
    bytes: data.bytes,
    ours: push.ours,
    baseline: { name: "artifact-cli, 1 worker", samples: push.one },
    target: TARGETS.onePointSixTimesFaster,
  });

  registry = await startRegistry();
  const outputs: string[] = [];
  try {
    const ref = `${registry.host}/bench/pull:v1`;
    const digest = pushed(await ctx.push(ref, data, L, W)).layer;
    ctx.rows.push({
      operation: `re-push ${data.name} -> registry, unchanged`,
      bytes: data.bytes,
      ours: await repush(ctx, ref, data),
      note: "every blob skipped (0 bytes uploaded)",
    });
    // A content cache filled by one pull: the "cached re-pull" row downloads no blob.
    const warm = ctx.fresh("warm-cache");
    const warmOut = ctx.fresh("warm-pull");
    outputs.push(warm, warmOut);
    await ctx.cli(["pull", ref, "-o", warmOut], { ARTIFACT_CLI_CACHE_DIR: warm });
    const pull = await interleave(runs, {
      gnu: () => {
        const out = ctx.fresh("gnu-rx");
        outputs.push(out);
        return measureShell(
          `mkdir -p "$OUT" && curl -sS -f -L "$REG/v2/bench/pull/blobs/$DIGEST" | gzip -dc | tar x -C "$OUT"`,
          { OUT: out, REG: reg().url, DIGEST: digest },
        );
      },
      ours: () => {
        const out = ctx.fresh("registry-pull");
        // Its own empty content cache (filled by this pull, then removed with the output).
        const cache = ctx.fresh("registry-pull-cache");
        outputs.push(out, cache);
        return ctx.cli(["pull", ref, "-o", out], { ARTIFACT_CLI_CACHE_DIR: cache });
      },
      cached: () => {
        const out = ctx.fresh("registry-pull-cached");
        outputs.push(out);
        return ctx.cli(["pull", ref, "-o", out], { ARTIFACT_CLI_CACHE_DIR: warm });
      },
      worker: () => {
        const out = ctx.fresh("registry-pull-worker");
        const cache = ctx.fresh("registry-pull-worker-cache");
        outputs.push(out, cache);
        return ctx.cli(["pull", ref, "-o", out], {
          ARTIFACT_CLI_INFLATE_WORKER: "1",
          ARTIFACT_CLI_CACHE_DIR: cache,
        });
      },
    });
    await ctx.removeAll(outputs);
    ctx.rows.push({
      operation: `pull ${data.name} <- registry`,
      bytes: data.bytes,
      ours: pull.ours,
      baseline: { name: "curl blob | gzip -dc | tar x", samples: pull.gnu },
      target: TARGETS.fourTimesFaster,
      maxRssMiB: RSS_TARGETS.pull,
    }, {
      operation:
        `pull ${data.name} <- registry, inflate worker (ARTIFACT_CLI_INFLATE_WORKER=1) vs default`,
      bytes: data.bytes,
      ours: pull.worker,
      baseline: { name: "artifact-cli, default (calling thread)", samples: pull.ours },
    }, {
      operation: `cached re-pull ${data.name} <- registry vs first pull`,
      bytes: data.bytes,
      ours: pull.cached,
      baseline: { name: "artifact-cli, empty content cache", samples: pull.ours },
      note: "blobs served from the content cache (0 blob bytes downloaded)",
    });
  } finally {
    await stop();
  }
}
