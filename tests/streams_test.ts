import assert from "node:assert/strict";
import { join } from "node:path";
import zlib from "node:zlib";
import { decompress, decompressTo } from "../src/archive/decompress.ts";
import { SyncDecompressor } from "../src/archive/zlib_sync.ts";
import { eachChunk } from "../src/byte_streams.ts";
import { mapConcurrent } from "../src/concurrency.ts";
import { IntegrityError } from "../src/errors.ts";
import { sha256Digest, verifyStream } from "../src/oci/digest.ts";
import { fileStream, readAll } from "../src/target.ts";
import { tempDir } from "./support/tree.ts";

const text = (n: number) => new TextEncoder().encode("workshop content ".repeat(n));

Deno.test("the synchronous gzip and zstd decoders are available on this Deno (the fast path)", () => {
  for (const kind of ["gzip", "zstd"] as const) {
    const engine = SyncDecompressor.create(kind);
    assert.ok(engine, `${kind}: node:zlib's engine handle is missing; pulls fall back to streams`);
    engine.close();
  }
});

Deno.test("decompressTo reads multi-member gzip and reports truncation and corruption", async () => {
  const a = text(1000);
  const b = text(3);
  const joined = new Uint8Array([...zlib.gzipSync(a), ...zlib.gzipSync(b)]);
  const out: number[] = [];
  await decompressTo([joined.subarray(0, 17), joined.subarray(17)], "gzip", (c) => {
    for (const byte of c) out.push(byte);
  });
  assert.deepEqual(new Uint8Array(out), new Uint8Array([...a, ...b]));

  const gz = zlib.gzipSync(text(5000));
  await assert.rejects(
    () => decompressTo([gz.subarray(0, gz.byteLength - 4)], "gzip", () => {}),
    IntegrityError,
  );
  const corrupt = gz.slice();
  corrupt[corrupt.byteLength - 6] ^= 0xff; // the CRC
  await assert.rejects(() => decompressTo([corrupt], "gzip", () => {}), IntegrityError);
});

Deno.test("decompress yields chunks the caller may keep (they are not the reused buffer)", async () => {
  const data = new Uint8Array(3 * 1024 * 1024);
  for (let i = 0; i < data.byteLength; i++) data[i] = (i * 7) % 251;
  const chunks = await Array.fromAsync(decompress([zlib.gzipSync(data)], "gzip"));
  assert.ok(chunks.length > 1);
  assert.deepEqual(await readAll(ReadableStream.from(chunks)), data);
});

Deno.test("errors of the source pass through decompressTo unchanged", async () => {
  async function* failing() {
    yield zlib.gzipSync(text(10)).subarray(0, 10);
    throw new Error("connection reset");
  }
  await assert.rejects(() => decompressTo(failing(), "gzip", () => {}), /connection reset/);
});

Deno.test("verifyStream over a file: BYOB reads land in the reader's buffer; a mismatch fails at the end", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "blob");
  const data = text(200_000); // 3.4 MB: several reads
  await Deno.writeFile(path, data);
  const capacities = new Set<number>();
  let size = 0;
  await eachChunk(
    verifyStream(fileStream(await Deno.open(path)), sha256Digest(data), data.byteLength),
    (chunk) => {
      capacities.add(chunk.buffer.byteLength);
      size += chunk.byteLength;
    },
    300_000,
  );
  assert.equal(size, data.byteLength);
  // Every read landed in the consumer's own 300 kB buffer (not a fresh 1 MiB chunk).
  assert.deepEqual([...capacities], [300_000]);

  const wrong = sha256Digest(new Uint8Array(1));
  const open = async (digest: string, size: number) =>
    verifyStream(fileStream(await Deno.open(path)), digest as `sha256:${string}`, size);
  await assert.rejects(
    async () => eachChunk(await open(wrong, data.byteLength), () => {}),
    IntegrityError,
  );
  await assert.rejects(
    async () => eachChunk(await open(sha256Digest(data), data.byteLength + 1), () => {}),
    /truncated/,
  );
  // Default readers get whole chunks too.
  const all = await readAll(
    verifyStream(fileStream(await Deno.open(path)), sha256Digest(data), data.byteLength),
  );
  assert.deepEqual(all, data);
});

Deno.test("verifyStream copies chunks of a plain stream instead of detaching the caller's bytes", async () => {
  const data = text(10);
  const checked = verifyStream(ReadableStream.from([data]), sha256Digest(data), data.byteLength);
  assert.deepEqual(await readAll(checked), data);
  assert.equal(data.byteLength, 170); // still attached
});

Deno.test("mapConcurrent keeps order, bounds concurrency and stops after a failure", async () => {
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const results = await mapConcurrent([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    started.push(n);
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, (8 - n) * 2));
    running--;
    return n * 10;
  });
  assert.deepEqual(results, [10, 20, 30, 40, 50, 60, 70]);
  assert.equal(peak, 3);

  const seen: number[] = [];
  await assert.rejects(
    () =>
      mapConcurrent([1, 2, 3, 4, 5], 1, (n) => {
        seen.push(n);
        return n === 2 ? Promise.reject(new Error("boom")) : Promise.resolve(n);
      }),
    /boom/,
  );
  assert.deepEqual(seen, [1, 2]);
});

Deno.test("corrupt compressed bytes from a verifying source report the digest mismatch, not the decoder", async () => {
  const gz = zlib.gzipSync(text(20_000));
  const digest = sha256Digest(gz);
  const corrupt = gz.slice();
  corrupt[corrupt.byteLength >> 1] ^= 0xff;
  const source = verifyStream(ReadableStream.from([corrupt]), digest, corrupt.byteLength);
  await assert.rejects(() => decompressTo(source, "gzip", () => {}), /digest mismatch/);
  // Without a verifying source, the decoder's own error is what is left.
  await assert.rejects(() => decompressTo([corrupt], "gzip", () => {}), /corrupt gzip data/);
});
