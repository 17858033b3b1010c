import assert from "node:assert/strict";
import { join } from "node:path";
import zlib from "node:zlib";
import { COMPRESSION_BLOCK_SIZE, compressStream } from "../src/archive/compress.ts";
import { decompress } from "../src/archive/decompress.ts";
import { IntegrityError } from "../src/errors.ts";
import { readAll } from "../src/target.ts";
import { runTool } from "./support/cli.ts";
import { tempDir } from "./support/tree.ts";

/** Deterministic pseudo-random bytes (xorshift), half of it text-like. */
function sampleData(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed;
  const words = new TextEncoder().encode("lorem ipsum dolor sit amet workshop educates content ");
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i < size / 2 ? x & 0xff : words[(x >>> 0) % words.length];
  }
  return out;
}

async function compress(
  data: Uint8Array,
  compression: "gzip" | "zstd",
  options: { parallelism?: number; level?: number; chunk?: number } = {},
): Promise<Uint8Array> {
  const chunk = options.chunk ?? 65536;
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < data.byteLength; i += chunk) pieces.push(data.subarray(i, i + chunk));
  return await readAll(
    ReadableStream.from(
      compressStream(pieces, {
        compression,
        level: options.level,
        parallelism: options.parallelism,
      }),
    ),
  );
}

const SIZE = 3 * COMPRESSION_BLOCK_SIZE + 12345;

Deno.test("gzip output is one valid member that GNU gzip and zlib restore exactly", async () => {
  await using dir = await tempDir();
  const data = sampleData(SIZE);
  const gz = await compress(data, "gzip", { level: 1 });
  await Deno.writeFile(join(dir.path, "d.gz"), gz);
  await runTool("gzip", ["-t", join(dir.path, "d.gz")]);
  assert.deepEqual(zlib.gunzipSync(gz), Buffer.from(data));
  // One member: the web DecompressionStream (which rejects multi-member gzip) accepts it.
  const web = await readAll(
    ReadableStream.from([gz]).pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    ),
  );
  assert.deepEqual(web, data);
});

Deno.test("gzip output is identical for any chunking and any parallelism", async () => {
  const data = sampleData(SIZE, 7);
  const reference = await compress(data, "gzip");
  assert.deepEqual(await compress(data, "gzip", { chunk: 1000 }), reference);
  assert.deepEqual(await compress(data, "gzip", { parallelism: 3 }), reference);
});

Deno.test("incompressible input is stored, growing by less than 0.01%", async () => {
  const random = new Uint8Array(2 * COMPRESSION_BLOCK_SIZE);
  for (let i = 0; i < random.byteLength; i += 65536) {
    crypto.getRandomValues(random.subarray(i, i + 65536));
  }
  const gz = await compress(random, "gzip", { level: 1 });
  assert.ok(gz.byteLength < random.byteLength * 1.0001, `${gz.byteLength} vs ${random.byteLength}`);
  assert.deepEqual(zlib.gunzipSync(gz), Buffer.from(random));
});

Deno.test("empty input gives a valid empty gzip and zstd stream", async () => {
  assert.equal(zlib.gunzipSync(await compress(new Uint8Array(), "gzip")).byteLength, 0);
  assert.equal(zlib.zstdDecompressSync(await compress(new Uint8Array(), "zstd")).byteLength, 0);
});

Deno.test("zstd output is frames the zstd tool restores exactly", async () => {
  await using dir = await tempDir();
  const data = sampleData(SIZE, 3);
  const zst = await compress(data, "zstd");
  await Deno.writeFile(join(dir.path, "d.zst"), zst);
  await runTool("zstd", ["-q", "-d", join(dir.path, "d.zst"), "-o", join(dir.path, "d")]);
  assert.deepEqual(await Deno.readFile(join(dir.path, "d")), data);
  assert.deepEqual(await compress(data, "zstd", { parallelism: 2 }), zst);
});

Deno.test("decompress reads multi-member gzip and concatenated zstd frames", async () => {
  const a = new TextEncoder().encode("first ");
  const b = new TextEncoder().encode("second");
  for (
    const [compression, enc] of [["gzip", zlib.gzipSync], ["zstd", zlib.zstdCompressSync]] as const
  ) {
    const joined = await readAll(ReadableStream.from([enc(a), enc(b)]));
    const out = await readAll(ReadableStream.from(decompress([joined], compression)));
    assert.equal(new TextDecoder().decode(out), "first second");
  }
});

Deno.test("corrupt gzip data fails with an integrity error", async () => {
  const gz = zlib.gzipSync(sampleData(100000));
  gz[gz.byteLength / 2] ^= 0xff;
  await assert.rejects(async () => {
    for await (const _ of decompress([gz], "gzip")) { /* drain */ }
  }, IntegrityError);
});

Deno.test("zstd frames are all decoded, with skippable frames dropped, however the input is cut", async () => {
  const enc = new TextEncoder();
  const skippable = new Uint8Array([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
  const parts = [
    zlib.zstdCompressSync(enc.encode("one ")),
    skippable,
    zlib.zstdCompressSync(sampleData(300000)),
    zlib.zstdCompressSync(enc.encode(" three"), {
      params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 },
    }),
  ];
  const joined = await readAll(ReadableStream.from(parts));
  const expected = await readAll(
    ReadableStream.from([enc.encode("one "), sampleData(300000), enc.encode(" three")]),
  );
  for (const cut of [1, 3, 5, 4096, joined.byteLength]) {
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < joined.byteLength; i += cut) pieces.push(joined.subarray(i, i + cut));
    const out = await readAll(ReadableStream.from(decompress(pieces, "zstd")));
    assert.deepEqual(out, expected, `cut ${cut}`);
  }
});

Deno.test("a zstd stream cut between frames' bytes is reported as truncated", async () => {
  const frame = zlib.zstdCompressSync(sampleData(100000));
  await assert.rejects(async () => {
    for await (
      const _ of decompress([frame.subarray(0, frame.byteLength - 3)], "zstd")
    ) { /* drain */ }
  }, IntegrityError);
});
