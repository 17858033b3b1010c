/**
 * The same tree gives the same layer, config and manifest digests whatever
 * the number of compression workers, and the same digests as before the
 * memory work (flat-memory): the pinned values were computed on main before
 * the walk, tar writer or pool sizing changed. A change that alters bytes
 * (entry order, header fields, block boundaries) fails here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CompressorPool, workersForBytes } from "../src/archive/compress_pool.ts";
import { buildTarLayer } from "../src/archive/layer.ts";
import { collectTree } from "../src/archive/walk.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { pushTree } from "../src/push/push_tree.ts";
import { tempDir } from "./support/tree.ts";

const MiB = 1024 * 1024;

/** Deterministic, partly compressible bytes (xorshift), so blocks differ. */
function data(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = Math.floor(i / (300 * 1024)) % 2 === 0 ? x & 0xff : 97 + ((x >>> 0) % 7);
  }
  return out;
}

/** A tree with many small files, nested directories and a multi-block file. */
async function makeTree(root: string): Promise<void> {
  await Deno.mkdir(join(root, "a", "b"), { recursive: true });
  await Deno.mkdir(join(root, "empty"));
  for (let i = 0; i < 300; i++) {
    await Deno.writeFile(
      join(root, "a", `f${String(i).padStart(3, "0")}.txt`),
      data(i * 37, i + 1),
    );
  }
  await Deno.writeFile(join(root, "a", "b", "big.bin"), data(5 * MiB + 123, 7));
  await Deno.writeTextFile(join(root, "run.sh"), "#!/bin/sh\necho hi\n");
  await Deno.chmod(join(root, "run.sh"), 0o755);
  await Deno.symlink("run.sh", join(root, "link"));
  // Fixed times: the digests must not depend on when the test runs.
  const when = new Date("2024-01-02T03:04:05Z");
  for (const p of ["a/b/big.bin", "run.sh", "a/f000.txt", "a/f299.txt"]) {
    await Deno.utime(join(root, p), when, when);
  }
}

const PINNED: Record<"gzip" | "zstd", { layer: string; manifest: string }> = {
  gzip: {
    layer: "sha256:d9f997e34c6e3e1d6cb04b86e5d0ee9c578b9d2204f52107ec8bc2fcd03c704d",
    manifest: "sha256:3dc007d53dd43a388517a8de9ffeb4d2f504d6e896546d53dd090111b66d8b2d",
  },
  zstd: {
    layer: "sha256:c62d41a6f02c86a6c6007590cf0b8e9e14941ab6aeb3bfd7c7cd62fe6a4b7c1d",
    manifest: "sha256:bd2cee8a784922652022c980e58366f5336937dfbd7f21b7977213ac32b768bb",
  },
};

for (const compression of ["gzip", "zstd"] as const) {
  Deno.test(`push: ${compression} digests are the same for 1, 2 and 4 workers and pinned`, async () => {
    await using tmp = await tempDir();
    const src = join(tmp.path, "src");
    await Deno.mkdir(src);
    await makeTree(src);
    const seen: { layer: string; manifest: string }[] = [];
    for (const workers of [1, 2, 4]) {
      const layout = await OciLayout.open(join(tmp.path, `out-${workers}`), { create: true });
      const result = await pushTree(layout, {
        inputs: [src],
        tag: "v1",
        compression,
        compressionWorkers: workers,
      });
      seen.push({ layer: result.layers[0].digest, manifest: result.descriptor.digest });
      // A 5 MiB tree needs one worker whatever the ceiling.
      // (workers load asynchronously, so "at most": 4 allowed used to load up to 4)
      assert.ok(result.compression.workersStarted <= 1, `${workers} workers allowed`);
    }
    // The pool itself at 1, 2 and 4 workers (pushTree would start only one).
    for (const workers of [1, 2, 4]) {
      using pool = new CompressorPool(workers);
      const layer = await buildTarLayer(collectTree([src]), {
        compression,
        stagingDir: tmp.path,
        compressor: pool,
        parallelism: pool.parallelism,
      });
      assert.ok(pool.stats.blocksInWorkers > 0);
      assert.equal(layer.descriptor.digest, PINNED[compression].layer, `pool of ${workers}`);
    }
    assert.deepEqual(seen[1], seen[0], "2 workers");
    assert.deepEqual(seen[2], seen[0], "4 workers");
    assert.deepEqual(seen[0], PINNED[compression], "digests pinned on main");
  });
}

Deno.test("workersForBytes: one worker per 64 MiB, at least one, at most the ceiling", () => {
  const MiB64 = 64 * MiB;
  assert.equal(workersForBytes(0, 4), 1);
  assert.equal(workersForBytes(20 * MiB, 4), 1);
  assert.equal(workersForBytes(MiB64 + 1, 4), 2);
  assert.equal(workersForBytes(512 * MiB, 4), 4);
  assert.equal(workersForBytes(512 * MiB, 0), 0);
});
