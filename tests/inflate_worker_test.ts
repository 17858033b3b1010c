import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import zlib from "node:zlib";
import { compressStream } from "../src/archive/compress.ts";
import { decompressTo } from "../src/archive/decompress.ts";
import { inflateInWorker } from "../src/archive/inflate_worker.ts";
import { IntegrityError } from "../src/errors.ts";
import { readAll } from "../src/target.ts";
import { runCli } from "./support/cli.ts";
import { tempDir } from "./support/tree.ts";

const MiB = 1024 * 1024;

function pseudoRandom(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i % 4096 < 2048 ? x & 0xff : 97 + (x >>> 0) % 6;
  }
  return out;
}

/** Pieces of `bytes`, as a network or file read hands them over. */
function pieces(bytes: Uint8Array, size = 300_000): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.byteLength; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** A source that records how much of it was read. */
function counted(bytes: Uint8Array): { source: AsyncIterable<Uint8Array>; read: () => number } {
  let read = 0;
  const source = (async function* () {
    for (const piece of pieces(bytes)) {
      read += piece.byteLength;
      yield piece;
    }
  })();
  return { source, read: () => read };
}

async function inflated(
  source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  worker: boolean,
): Promise<string> {
  const hash = createHash("sha256");
  if (worker) {
    assert.equal(await inflateInWorker(source, (chunk) => void hash.update(chunk)), true);
  } else {
    await decompressTo(source, "gzip", (chunk) => void hash.update(chunk));
  }
  return hash.digest("hex");
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

Deno.test("the inflate worker decodes our own block-compressed layers to the same bytes", async () => {
  const data = pseudoRandom(9 * MiB, 7);
  const gz = await readAll(ReadableStream.from(compressStream(pieces(data), {
    compression: "gzip",
    level: 1,
  })));
  assert.equal(await inflated(pieces(gz), true), sha256(data));
  assert.equal(await inflated(pieces(gz), false), sha256(data));
});

Deno.test("the inflate worker reads multi-member gzip and ignores zero padding after the end", async () => {
  const a = pseudoRandom(3 * MiB, 1);
  const b = pseudoRandom(2 * MiB, 2);
  const joined = new Uint8Array([
    ...zlib.gzipSync(a),
    ...zlib.gzipSync(b),
    ...new Uint8Array(1024),
  ]);
  const expected = sha256(new Uint8Array([...a, ...b]));
  assert.equal(await inflated(pieces(joined), true), expected);
  assert.equal(await inflated(pieces(joined), false), expected);
});

Deno.test("corrupt gzip fails with an integrity error only after the whole source was read", async () => {
  const gz = zlib.gzipSync(pseudoRandom(4 * MiB, 3));
  gz[gz.byteLength >> 1] ^= 0xff;
  gz[(gz.byteLength >> 1) + 1] ^= 0xff;
  const { source, read } = counted(gz);
  await assert.rejects(inflateInWorker(source, () => {}), IntegrityError);
  assert.equal(read(), gz.byteLength);
});

Deno.test("a truncated gzip stream fails with an integrity error", async () => {
  const gz = zlib.gzipSync(pseudoRandom(2 * MiB, 4));
  await assert.rejects(
    inflateInWorker(pieces(gz.subarray(0, gz.byteLength - 100)), () => {}),
    IntegrityError,
  );
});

Deno.test("a sink that stops decoding still has the source read to its end", async () => {
  const gz = zlib.gzipSync(pseudoRandom(6 * MiB, 5));
  const { source, read } = counted(gz);
  let calls = 0;
  assert.equal(await inflateInWorker(source, () => ++calls < 2), true);
  assert.equal(calls, 2);
  assert.equal(read(), gz.byteLength);
});

Deno.test("an error thrown by the sink (a tar limit) ends a gzip bomb at once", async () => {
  // 1 GiB of zeros is 1 MiB of gzip: the worker must not run ahead of the sink.
  const bomb = zlib.gzipSync(new Uint8Array(1024 * MiB), { level: 9 });
  let delivered = 0;
  const limit = new Error("the layer is over the size limit");
  await assert.rejects(
    inflateInWorker(pieces(bomb, 64 * 1024), (chunk) => {
      delivered += chunk.byteLength;
      if (delivered > 16 * MiB) throw limit;
    }),
    (e) => e === limit,
  );
  assert.ok(delivered <= 17 * MiB, `${delivered} bytes were handed on`);
});

Deno.test("a pull with the inflate worker writes the same tree as without it", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "in");
  await Deno.mkdir(join(input, "sub"), { recursive: true });
  await Deno.writeFile(join(input, "big.bin"), pseudoRandom(12 * MiB, 9));
  await Deno.writeFile(join(input, "sub", "small.txt"), new TextEncoder().encode("small\n"));
  const ref = `oci:${join(dir.path, "layout")}:v1`;
  assert.equal((await runCli(["push", ref, input, "-q"])).code, 0);
  for (const [name, setting] of [["with", "1"], ["without", "0"]]) {
    const out = join(dir.path, name);
    const result = await runCli(["pull", ref, "-o", out, "-q"], {
      env: { ARTIFACT_CLI_INFLATE_WORKER: setting },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      sha256(await Deno.readFile(join(out, "big.bin"))),
      sha256(await Deno.readFile(join(input, "big.bin"))),
    );
    assert.equal(await Deno.readTextFile(join(out, "sub", "small.txt")), "small\n");
  }
});
