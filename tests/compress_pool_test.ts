import assert from "node:assert/strict";
import { join } from "node:path";
import zlib from "node:zlib";
import { compressBlockWith, type Zlib } from "../src/archive/block_codec.ts";
import { CompressorPool } from "../src/archive/compress_pool.ts";
import { compressStream } from "../src/archive/compress.ts";
import { decompress } from "../src/archive/decompress.ts";
import { OciLayout } from "../src/layout/oci_layout.ts";
import { pushTree } from "../src/push/push_tree.ts";
import { readAll } from "../src/target.ts";
import { runCli, runTool } from "./support/cli.ts";
import { tempDir } from "./support/tree.ts";

const MiB = 1024 * 1024;

/** Deterministic bytes: alternating blocks of random-looking and text-like data. */
function mixedData(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const words = new TextEncoder().encode("lorem ipsum dolor sit amet workshop educates content ");
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // Regions of 700 KiB alternate, so some blocks are mixed.
    out[i] = Math.floor(i / (700 * 1024)) % 2 === 0 ? x & 0xff : words[(x >>> 0) % words.length];
  }
  return out;
}

async function compressWith(
  data: Uint8Array,
  compression: "gzip" | "zstd",
  level: number,
  pool?: CompressorPool,
): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < data.byteLength; i += 100_000) pieces.push(data.subarray(i, i + 100_000));
  return await readAll(
    ReadableStream.from(
      compressStream(pieces, {
        compression,
        level,
        compressor: pool,
        parallelism: pool?.parallelism,
      }),
    ),
  );
}

Deno.test("workers give the same bytes as the main thread, for gzip and zstd at several levels", async () => {
  const data = mixedData(6 * MiB + 4321);
  for (const [compression, level] of [["gzip", 1], ["gzip", 6], ["zstd", 3]] as const) {
    const reference = await compressWith(data, compression, level);
    using inline = new CompressorPool(0);
    using workers = new CompressorPool(2);
    assert.deepEqual(await compressWith(data, compression, level, inline), reference);
    assert.deepEqual(await compressWith(data, compression, level, workers), reference);
    assert.equal(inline.stats.blocksInWorkers, 0);
    assert.ok(workers.stats.blocksInWorkers > 0, JSON.stringify(workers.stats));
    assert.equal(workers.stats.workersFailed, 0);
    const restored = await readAll(ReadableStream.from(decompress([reference], compression)));
    assert.deepEqual(restored, data);
  }
});

Deno.test("the engine fast path gives the same bytes as node:zlib's public functions", () => {
  // A zlib whose streams have no usable handle forces the public-function fallback.
  const noHandles = {
    ...zlib,
    createDeflateRaw: () => ({}),
    createZstdCompress: () => ({}),
  } as unknown as Zlib;
  const data = mixedData(MiB, 5);
  const blocks = [data, data.subarray(0, 300_000), data.subarray(700 * 1024), new Uint8Array(0)];
  const fast = {};
  const out = new Uint8Array(MiB + 64 * 1024);
  for (const block of blocks) {
    for (let level = 1; level <= 9; level++) {
      const a = compressBlockWith(zlib, fast, block, "gzip", level, out).slice();
      const b = new Uint8Array(compressBlockWith(noHandles, {}, block, "gzip", level));
      assert.deepEqual(a, b, `gzip level ${level}, ${block.byteLength} bytes`);
    }
    for (const level of [1, 3, 9]) {
      const a = compressBlockWith(zlib, fast, block, "zstd", level, out).slice();
      const b = new Uint8Array(compressBlockWith(noHandles, {}, block, "zstd", level));
      assert.deepEqual(a, b, `zstd level ${level}`);
    }
  }
});

Deno.test("random blocks are stored without running deflate; text and mixed blocks shrink", () => {
  const random = new Uint8Array(MiB);
  for (let i = 0; i < MiB; i += 65536) crypto.getRandomValues(random.subarray(i, i + 65536));
  const stored = compressBlockWith(zlib, {}, random, "gzip", 6);
  // Stored blocks: 5 header bytes per 64 KiB - 1 piece, the data verbatim.
  assert.equal(stored.byteLength, MiB + 5 * Math.ceil(MiB / 65535));
  assert.deepEqual(stored.subarray(5, 105), random.subarray(0, 100));
  const mixed = mixedData(MiB, 9); // 700 KiB random, then text
  assert.ok(compressBlockWith(zlib, {}, mixed, "gzip", 6).byteLength < 0.9 * MiB);
  // Each gzip block decodes back (raw deflate, sync-flushed).
  for (const block of [random, mixed]) {
    const deflated = compressBlockWith(zlib, {}, block, "gzip", 1);
    assert.deepEqual(
      new Uint8Array(zlib.inflateRawSync(deflated, { finishFlush: zlib.constants.Z_SYNC_FLUSH })),
      block,
    );
  }
});

Deno.test("a closed pool refuses work and stops its workers", async () => {
  const pool = new CompressorPool(2);
  const data = mixedData(3 * MiB);
  await compressWith(data, "gzip", 1, pool);
  assert.ok(pool.stats.workersStarted > 0);
  pool.close();
  await assert.rejects(() => pool.compress(new Uint8Array(10), "gzip", 1), /closed/);
});

Deno.test("pushTree gives the same digest with 0, 1 and 2 compression workers", async () => {
  await using dir = await tempDir();
  const src = join(dir.path, "src");
  await Deno.mkdir(join(src, "sub"), { recursive: true });
  await Deno.writeFile(join(src, "mixed.bin"), mixedData(3 * MiB + 17));
  await Deno.writeFile(join(src, "sub", "text.bin"), mixedData(MiB, 3).subarray(700 * 1024));
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const digests = new Set<string>();
  for (const workers of [0, 1, 2]) {
    for (const compression of ["gzip", "zstd"] as const) {
      const result = await pushTree(layout, {
        inputs: [src],
        tag: `${compression}-${workers}`,
        compression,
        compressionWorkers: workers,
      });
      digests.add(`${compression} ${result.descriptor.digest}`);
      if (workers > 0) assert.ok(result.compression.blocksInWorkers > 0);
    }
  }
  assert.equal(digests.size, 2, [...digests].join("\n"));
});

Deno.test("the bundled CLI compresses on workers and pushes the same digest as the sources", async () => {
  await using dir = await tempDir();
  const bundle = join(dir.path, "artifact-cli.js");
  const main = new URL("../main.ts", import.meta.url).pathname;
  await runTool(Deno.execPath(), ["bundle", "--quiet", "--output", bundle, main]);
  const src = join(dir.path, "src");
  await Deno.mkdir(src);
  await Deno.writeFile(join(src, "data.bin"), mixedData(4 * MiB));
  const digests: string[] = [];
  for (const entry of [undefined, bundle]) {
    const store = join(dir.path, entry ? "bundled" : "source");
    const result = await runCli(
      ["--debug", "--format", "json", "push", `oci:${store}:v1`, src, "--compression-workers", "2"],
      { entry },
    );
    assert.equal(result.code, 0, result.stderr);
    // The debug line proves the blocks went to workers (Blob URL workers work in the bundle).
    const match = /compression: (\d+) blocks in (\d+) workers/.exec(result.stderr);
    // A 4 MiB tree starts one worker of the 2 allowed (one per 64 MiB).
    assert.ok(match && Number(match[1]) > 0 && match[2] === "1", result.stderr);
    digests.push(JSON.parse(result.stdout).digest);
  }
  assert.equal(digests[0], digests[1]);
});

Deno.test("pushTree compresses a tree of only small files without workers, to the same digest", async () => {
  await using dir = await tempDir();
  const src = join(dir.path, "src");
  await Deno.mkdir(src);
  for (let i = 0; i < 50; i++) await Deno.writeFile(join(src, `f${i}`), mixedData(60 * 1024, i));
  const layout = await OciLayout.open(join(dir.path, "store"), { create: true });
  const small = await pushTree(layout, { inputs: [src], tag: "small", compressionWorkers: 2 });
  assert.equal(small.compression.workersStarted, 0);
  assert.equal(small.compression.blocksInWorkers, 0);
  // One file of 64 KiB is enough to start a worker; the other bytes are unchanged.
  await Deno.writeFile(join(src, "big"), mixedData(64 * 1024, 99));
  const big = await pushTree(layout, { inputs: [src], tag: "big", compressionWorkers: 2 });
  assert.ok(big.compression.blocksInWorkers > 0, JSON.stringify(big.compression));
  await Deno.remove(join(src, "big"));
  const again = await pushTree(layout, { inputs: [src], tag: "again", compressionWorkers: 0 });
  assert.equal(again.descriptor.digest, small.descriptor.digest);
});
