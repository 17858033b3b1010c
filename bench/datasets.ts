/**
 * Benchmark data sets, generated deterministically under a temporary
 * directory: a mixed tree (half random bytes, half text) and a tree of many
 * small text files.
 *
 * @module
 */

import { join } from "node:path";

const MiB = 1024 * 1024;

/** A generated tree and the bytes of content in it. */
export interface Dataset {
  name: string;
  dir: string;
  bytes: number;
  files: number;
}

const WORDS = (
  "the quick brown fox jumps over lazy dog workshop educates content lorem ipsum dolor sit " +
  "amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna " +
  "aliqua function return const let var import export class interface type string number " +
  "kubernetes deployment service namespace container image registry pull push layer manifest"
).split(" ").map((w) => new TextEncoder().encode(w));

/**
 * Text-like bytes: words picked by xorshift, numbers, spaces and newlines.
 * gzip -1 shrinks it to about 40 %, like prose or source code.
 */
export function textBytes(size: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = seed | 1;
  let o = 0;
  while (o < size) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const r = x >>> 0;
    const word = (r >>> 8) % 16 === 0
      ? new TextEncoder().encode(String(r % 100000))
      : WORDS[r % WORDS.length];
    for (let i = 0; i < word.length && o < size; i++) out[o++] = word[i];
    if (o < size) out[o++] = (r >>> 20) % 12 === 0 ? 10 : 32;
  }
  return out;
}

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  }
  return out;
}

/**
 * `totalMiB` of content: half random (4 MiB files, incompressible like
 * images or archives), half text (files around 1 MiB in 16 directories).
 */
export async function mixedTree(root: string, totalMiB: number): Promise<Dataset> {
  const dir = join(root, `mixed-${totalMiB}m`);
  const half = (totalMiB * MiB) / 2;
  let bytes = 0;
  let files = 0;
  await Deno.mkdir(join(dir, "random"), { recursive: true });
  const randomFile = Math.min(4 * MiB, half);
  for (let i = 0; bytes < half; i++) {
    const size = Math.min(randomFile, half - bytes);
    await Deno.writeFile(join(dir, "random", `r${i}.bin`), randomBytes(size));
    bytes += size;
    files++;
  }
  const textFile = Math.min(MiB, half);
  for (let i = 0; bytes < 2 * half; i++) {
    const sub = join(dir, "text", `d${i % 16}`);
    if (i < 16) await Deno.mkdir(sub, { recursive: true });
    // Sizes vary a little so file boundaries fall anywhere in a block.
    const size = Math.min(textFile - 1000 + ((i * 37) % 2000), 2 * half - bytes);
    await Deno.writeFile(join(sub, `t${i}.txt`), textBytes(size, i + 1));
    bytes += size;
    files++;
  }
  return { name: `${totalMiB} MiB (half random, half text)`, dir, bytes, files };
}

/** `count` text files of `size` bytes in directories of 200. */
export async function smallFilesTree(root: string, count: number, size: number): Promise<Dataset> {
  const dir = join(root, `small-${count}`);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${Math.floor(i / 200)}`);
    if (i % 200 === 0) await Deno.mkdir(sub, { recursive: true });
    await Deno.writeFile(join(sub, `f${i % 200}.txt`), textBytes(size, i + 1));
  }
  return { name: `${count} files of ${size} B`, dir, bytes: count * size, files: count };
}
